"""Bodies outside the Pemprov (agency kind external): handing a report over, delivering it, and their answer.

Delivery: a row in report_external_deliveries is written with the hand-off, and after the commit an rq job
(DEFAULT queue, retried with backoff) sends it through the body's configured channel, a webhook (JSON, signed)
or an Open311 POST, and records every attempt on the row. The answer comes back by a signed webhook (we chose a
push over polling: the bodies answer when they act, and no poller needs their credentials): POST
/api/v1/external/reports/{id}/answers with X-Jaki-Agency, X-Jaki-Timestamp and X-Jaki-Signature =
"sha256=" + HMAC-SHA256(secret, timestamp + "." + body). While the body holds the report, its SLA is paused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime

import httpx
from sqlalchemy import select

from jaki.agencies.models import Agency
from jaki.db import utcnow
from jaki.errors import Conflict, Forbidden, JakiError
from jaki.extensions import db
from jaki.jobs import Queues, enqueue_safely
from jaki.reports import clocks
from jaki.reports import workflow as wf
from jaki.reports.events import record_history, status_changed
from jaki.reports.models import ExternalDelivery, Report
from jaki.reports.scope import load_report
from jaki.reports.versions import commit_versioned
from jaki.settings import setting

log = logging.getLogger(__name__)

RETRY_INTERVALS = (30, 120, 600, 1800)
ANSWERS = ("received", "in_progress", "resolved", "not_ours")


class DeliveryRetry(Exception):
    """A retryable failure (timeout, connection, 5xx, 429): rq tries again later."""


def _channel(agency_code: str) -> dict | None:
    channel = setting("REPORTS_EXTERNAL_CHANNELS").get(agency_code)
    return channel if isinstance(channel, dict) and channel.get("url") and channel.get("secret") else None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def hand_off(report: Report, body: Agency, now: datetime) -> ExternalDelivery:
    """In the caller's transaction: the report is the body's now (dispatched to it), its SLA paused."""
    channel = _channel(body.code)
    delivery = ExternalDelivery(
        report_id=report.id,
        agency_code=body.code,
        channel=(channel or {}).get("channel", "webhook"),
        state="pending",
        attempts=0,
    )
    db.session.add(delivery)
    report.status = wf.DISPATCHED
    report.dispatched_at = now
    clocks.pause(report, "external_agency", now)
    return delivery


def enqueue_pending(report_id: str) -> None:
    """After the commit: send the report's pending deliveries (Redis down: they stay pending, the row says so)."""
    ids = db.session.scalars(
        select(ExternalDelivery.id).where(ExternalDelivery.report_id == report_id, ExternalDelivery.state == "pending")
    ).all()
    for delivery_id in ids:
        enqueue_safely(
            deliver,
            delivery_id,
            queue=Queues.DEFAULT,
            retries=setting("REPORTS_EXTERNAL_MAX_ATTEMPTS") - 1,
            retry_intervals=RETRY_INTERVALS,
        )


def _payload(report: Report) -> dict:
    return {
        "report_id": report.id,
        "reference": report.reference,
        "category_code": report.category_code,
        "description": report.description,
        "address": report.address,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "kelurahan_code": report.kelurahan_code,
        "received_at": report.created_at.isoformat(),
        "answer_path": f"/api/v1/external/reports/{report.id}/answers",
    }


def _send(channel: dict, report: Report) -> httpx.Response:
    timeout = setting("REPORTS_EXTERNAL_TIMEOUT_SECONDS")
    if channel.get("channel") == "open311":
        form = {
            "api_key": channel.get("api_key", ""),
            "service_code": report.category_code,
            "lat": str(report.latitude),
            "long": str(report.longitude),
            "address_string": report.address or "",
            "description": report.description,
            "attribute[jaki_reference]": report.reference,
        }
        return httpx.post(channel["url"].rstrip("/") + "/requests.json", data=form, timeout=timeout)
    body = json.dumps(_payload(report), separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Jaki-Timestamp": timestamp,
        "X-Jaki-Signature": sign(channel["secret"], timestamp, body),
    }
    return httpx.post(channel["url"], content=body, headers=headers, timeout=timeout)


def _remote_id(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict):
        return None
    value = data.get("id") or data.get("service_request_id")
    return str(value)[:100] if value is not None else None


def deliver(delivery_id: str) -> str | None:
    """The job: send once per attempt, record the outcome on the row. Idempotent: a sent row is not resent."""
    delivery = db.session.get(ExternalDelivery, delivery_id)
    if delivery is None or delivery.state != "pending":
        return delivery.state if delivery else None
    report = db.session.get(Report, delivery.report_id)
    channel = _channel(delivery.agency_code)
    now = utcnow()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    if channel is None:
        delivery.state, delivery.last_error = "failed", "no_channel"
        db.session.commit()
        log.warning("external body has no channel", extra={"agency": delivery.agency_code})
        return delivery.state
    retry = False
    try:
        response = _send(channel, report)
    except httpx.HTTPError as exc:
        delivery.last_error = type(exc).__name__[:200]
        retry = True
    else:
        if 200 <= response.status_code < 300:
            delivery.state, delivery.sent_at, delivery.last_error = "sent", now, None
            delivery.remote_id = _remote_id(response)
        elif response.status_code >= 500 or response.status_code in (408, 429):
            delivery.last_error, retry = f"http_{response.status_code}", True
        else:
            delivery.state, delivery.last_error = "failed", f"http_{response.status_code}"
    if retry and delivery.attempts >= setting("REPORTS_EXTERNAL_MAX_ATTEMPTS"):
        delivery.state, retry = "failed", False
    db.session.commit()
    if retry:
        raise DeliveryRetry(f"delivery {delivery_id}: {delivery.last_error}")
    return delivery.state


# ---- their answer ---------------------------------------------------------------------------------------


def _verify(agency_code: str | None, timestamp: str | None, signature: str | None, raw: bytes) -> dict:
    channel = _channel(agency_code or "")
    if channel is None or not timestamp or not signature:
        raise Forbidden("external_signature_invalid")
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        raise Forbidden("external_signature_invalid") from None
    if age > setting("REPORTS_EXTERNAL_SIGNATURE_MAX_AGE_SECONDS"):
        raise Forbidden("external_signature_invalid")
    if not hmac.compare_digest(sign(channel["secret"], timestamp, raw), signature):
        raise Forbidden("external_signature_invalid")
    return channel


def answer(report_id: str, *, agency_code: str | None, timestamp: str | None, signature: str | None, raw: bytes):
    """A signed answer of the external body that holds the report, written into its history."""
    _verify(agency_code, timestamp, signature, raw)
    report = load_report(report_id)
    if report.agency_code != agency_code:
        raise Forbidden("external_signature_invalid")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("status") not in ANSWERS:
        raise JakiError("external_answer_invalid", status=422, errors={"status": list(ANSWERS)})
    note = data.get("note") if isinstance(data.get("note"), str) else None
    note = (note or "").strip()[:2000] or None
    remote_id = str(data.get("remote_id"))[:100] if data.get("remote_id") is not None else None
    status = data["status"]
    if report.status not in (wf.DISPATCHED, wf.IN_PROGRESS):
        raise Conflict("transition_not_allowed", from_status=report.status, to_status=status)
    with db.session.no_autoflush:
        now = utcnow()
        from_status = report.status
        details = {"agency_code": agency_code, "answer": status, "remote_id": remote_id}
        if status in ("received", "in_progress"):
            report.status = wf.IN_PROGRESS if status == "in_progress" else report.status
        elif status == "resolved":
            clocks.resume(report, now)
            report.resolution_note = note
            report.resolved_by_id = None
            report.work_done_at = now
            report.time_to_owner_seconds = max(
                int(((report.dispatched_at or now) - report.created_at).total_seconds()), 0
            )
            # The body's word is checked like an officer's: the kelurahan validates before citizens see it done.
            if report.category.validation_required:
                report.status = wf.AWAITING_VALIDATION
            else:
                report.status, report.resolved_at = wf.RESOLVED, now
        else:  # not_ours: back to the category's agency, to be routed again
            clocks.resume(report, now)
            report.agency_code = report.category.agency_code
            report.status, report.dispatched_at = wf.VERIFIED, None
        record_history(
            report,
            None,
            "external_answer",
            from_status,
            report.status,
            reason=note,
            details=details,
            actor_role="external",
        )
        if report.status != from_status:
            status_changed(report, from_status, None)
    commit_versioned()
    return report
