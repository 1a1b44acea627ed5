"""Open311 business layer: API keys, submissions through jaki's report pipeline, public lookups, staff contact."""

# Everything a report is (validation, routing, SLA, duplicates, visibility) is jaki.reports' business;
# this module maps Open311's vocabulary onto it and keeps what only Open311 has (keys, tokens, submitter contact).

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import request
from marshmallow import ValidationError
from sqlalchemy import select

from jaki import audit
from jaki.agencies.models import Agency
from jaki.auth import nik as nik_mod
from jaki.auth.crypto import cipher
from jaki.auth.models import User
from jaki.auth.operations import parse_nik
from jaki.db import utcnow
from jaki.errors import Forbidden, JakiError, NotFound, field_error
from jaki.extensions import db
from jaki.i18n import translate
from jaki.open311.models import ApiKey, Submission
from jaki.open311.schemas import parameter_error
from jaki.reports import operations as reports
from jaki.reports import queries as report_queries
from jaki.reports import workflow as wf
from jaki.reports.categories import active_category, list_categories
from jaki.reports.checks import route_location
from jaki.reports.models import Category, Report
from jaki.reports.schemas import ReportCreateSchema
from jaki.reports.scope import get_for_staff
from jaki.settings import setting

log = logging.getLogger(__name__)

KEY_PREFIX = "o311_"
CONTACT_PURPOSE = "open311_contact"
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "account_id", "device_id")
# When this implementation last changed in a way clients can see (discovery's changeset).
CHANGESET = datetime.fromisoformat("2026-11-23T12:00:00+07:00")


def _plausible(value, max_length: int) -> bool:
    """An id from a URL worth a query: the right length and no NUL (PostgreSQL text cannot hold one)."""
    return isinstance(value, str) and 0 < len(value) <= max_length and "\x00" not in value


# ---- API keys -----------------------------------------------------------------------------------------


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(name: str, created_by: User | None = None) -> tuple[ApiKey, str]:
    """A new key; the plaintext is returned once and never stored."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name.strip(),
        key_hash=_hash_key(raw),
        key_prefix=raw[:12],
        created_by_id=created_by.id if created_by else None,
    )
    db.session.add(key)
    db.session.commit()
    return key, raw


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def revoke_key(key_id: str) -> ApiKey:
    """Revoke (idempotent): the key stops working at once; its submissions stay."""
    key = db.session.get(ApiKey, key_id) if _plausible(key_id, 36) else None
    if key is None:
        raise NotFound()
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.commit()
    return key


def authenticate(raw: str | None) -> ApiKey:
    raw = (raw or "").strip()
    key = None
    if raw and len(raw) <= 200:
        key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash_key(raw)))
    if key is None or key.revoked_at is not None:
        raise Forbidden("open311_api_key_invalid")
    return key


def rate_limit_key(raw: str | None) -> str:
    """The limiter's key for an api_key: a hash (limiter storage and its logs must never hold the key)."""
    return "open311-key:" + hashlib.sha256(b"ratelimit:" + (raw or "").strip().encode()).hexdigest()[:32]


def idempotency_principal() -> str | None:
    """Whose Idempotency-Key a POST carries: its API key (hashed; an unknown key is refused by the view itself)."""
    raw = (request.form.get("api_key") or "").strip()
    return "open311-key:" + hashlib.sha256(b"idempotency:" + raw.encode()).hexdigest()[:40] if raw else None


def check_jurisdiction(jurisdiction_id: str | None) -> None:
    ours = setting("OPEN311_JURISDICTION_ID")
    if jurisdiction_id and jurisdiction_id.strip() and jurisdiction_id.strip() != ours:
        raise NotFound("open311_jurisdiction_unknown", jurisdiction=ours)


# ---- services -----------------------------------------------------------------------------------------


def agency_names() -> dict[str, str]:
    return dict(db.session.execute(select(Agency.code, Agency.name)).all())


def list_services() -> tuple[list[Category], dict[str, str]]:
    return list_categories(), agency_names()


def get_service(service_code: str) -> Category:
    if not _plausible(service_code, 40):
        raise NotFound("open311_service_unknown")
    try:
        return active_category(service_code)
    except JakiError:
        raise NotFound("open311_service_unknown") from None


# ---- submitting ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    report: Report
    token: str
    notice: str
    account_id: str | None


def _category_for_post(service_code: str | None) -> Category:
    if not service_code:
        raise JakiError("open311_service_code_required", status=400)
    try:
        return active_category(service_code)
    except JakiError:
        raise JakiError("open311_service_unknown", status=400) from None


def _validated_by_reports(category: Category, description: str, lat: float, lon: float, address: str | None) -> dict:
    """The fields checked by the reports domain's own create schema (lengths and types), so the rules are one."""
    try:
        return ReportCreateSchema().load(
            {
                "category": category.code,
                "description": description,
                "latitude": lat,
                "longitude": lon,
                "address": address,
            }
        )
    except ValidationError as exc:
        names = {"description": "description", "address": "address_string", "latitude": "lat", "longitude": "long"}
        raise parameter_error({names.get(k, k): v for k, v in exc.messages.items()}) from None


def contact_account_id(raw: str | None) -> str | None:
    """account_id as sent; one that is a NIK (16 digits once spaces, dots and dashes are gone) is normalised
    and checked in the one place NIKs are (jaki.auth.nik), so a NIK reaches no row in two spellings."""
    text = (raw or "").strip()
    compact = nik_mod.normalize(text)
    if len(compact) == 16 and compact.isascii() and compact.isdigit():
        return parse_nik(text, field="account_id").value
    return text or None


def _seal_contact(data: dict) -> str | None:
    contact = {name: data[name].strip() for name in CONTACT_FIELDS if data.get(name)}
    return cipher().encrypt(json.dumps(contact, ensure_ascii=False), CONTACT_PURPOSE) if contact else None


def submit_request(key: ApiKey, data: dict, attributes: dict) -> Submitted:
    """POST requests: a report through jaki's pipeline (routing, SLA, history) plus the Open311 submission row.

    A nearby open report of the same kind does not stop an Open311 request (its clients cannot answer
    "support the other one instead"): it is created, and the notice says similar reports exist.
    """
    category = _category_for_post(data.get("service_code"))
    data = {**data, "account_id": contact_account_id(data.get("account_id"))}
    lat, lon = data.get("lat"), data.get("long")
    if lat is None or lon is None:
        raise JakiError("open311_location_required", status=400)
    routing = route_location(lat, lon)  # refused before the fields are looked at; create_report takes it as checked
    # Stored for citizens and officers, who read Indonesian, whatever language the client asked for.
    description = (data.get("description") or "").strip() or translate(
        "open311_no_description", language="id", service=category.name
    )
    fields = _validated_by_reports(category, description, lat, lon, data.get("address_string"))
    submission = Submission(
        token=secrets.token_urlsafe(24),
        api_key_id=key.id,
        service_code=category.code,
        address_id=(data.get("address_id") or "").strip() or None,
        media_url=data.get("media_url"),
        attributes=attributes or None,
        contact_sealed=_seal_contact(data),
    )

    def record_submission(report: Report) -> None:
        # Run by create_report before its one commit: the submission (service-attribute answers, sealed contact)
        # commits with its report, linked from the start, or not at all.
        submission.report_id = report.id
        db.session.add(submission)
        key.last_used_at = utcnow()

    # Category and point are checked above, in Open311's words, and handed over as checked; a nearby open report
    # of the same kind does not stop the request (force), it is only counted for the notice.
    created = reports.create_report(
        None,
        category=category,
        routing=routing,
        description=fields["description"],
        latitude=fields["latitude"],
        longitude=fields["longitude"],
        address=fields["address"],
        anonymous=True,
        force=True,
        count_duplicates=True,
        source="open311",
        in_transaction=record_submission,
    )
    log.info("open311 request created", extra={"report_id": created.report.id, "api_key_id": key.id})
    agency = db.session.get(Agency, created.report.agency_code)
    notice = translate(
        "open311_notice", agency=agency.name if agency else created.report.agency_code, hours=category.sla_hours
    )
    if created.duplicates:
        notice += " " + translate("open311_notice_duplicates", count=created.duplicates)
    return Submitted(created.report, submission.token, notice, data["account_id"])


# ---- reading ------------------------------------------------------------------------------------------


def _open311_statuses(wanted: Sequence[str] | None) -> list[str] | None:
    """open/closed as jaki's public statuses (the mapping is workflow.open311_status)."""
    if not wanted:
        return None
    return [s for s in wf.PUBLIC_STATUSES if wf.open311_status(s) in wanted]


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """[since, until) for list_reports: the last N days by default; a given range spans N days at most."""
    days = timedelta(days=setting("OPEN311_DEFAULT_DAYS"))
    if start is not None and end is not None:
        if start > end:
            raise field_error("start_date", "open311_date_range_invalid", status=400)
        if end - start > days:
            raise field_error("end_date", "open311_date_range_too_long", status=400, days=days.days)
    elif start is not None:
        end = start + days
    elif end is not None:
        start = end - days
    else:
        return utcnow() - days, None
    # end_date is inclusive; list_reports' `until` is not.
    return start, end + timedelta(microseconds=1)


def find_requests(args: dict) -> list[Report]:
    """GET requests: by ids (overriding every other filter, as the spec says), or by service, status and dates."""
    cap = setting("OPEN311_MAX_RESULTS")
    ids = args.get("service_request_id")
    if ids:
        if len(ids) > cap:
            raise field_error("service_request_id", "open311_too_many_ids", status=400, max=cap)
        return report_queries.list_reports(ids=ids, public=True, limit=len(ids)).items
    page_size = min(args.get("page_size") or cap, cap)
    since, until = _window(args.get("start_date"), args.get("end_date"))
    statuses = _open311_statuses(args.get("status"))
    categories = args.get("service_code")
    return report_queries.list_reports(
        categories=categories,
        statuses=statuses,
        since=since,
        until=until,
        public=True,
        limit=page_size,
        offset=(args.get("page", 1) - 1) * page_size,
    ).items


def get_request(report_id: str) -> Report:
    if not _plausible(report_id, 36):
        raise NotFound("open311_request_not_found")
    try:
        return report_queries.get_public_report(report_id)
    except NotFound:
        raise NotFound("open311_request_not_found") from None


def submissions_for(report_ids: Sequence[str]) -> dict[str, Submission]:
    if not report_ids:
        return {}
    rows = db.session.scalars(select(Submission).where(Submission.report_id.in_(list(report_ids))))
    return {row.report_id: row for row in rows}


def lookup_token(token: str) -> Submission:
    row = None
    if _plausible(token, 64):
        row = db.session.scalar(select(Submission).where(Submission.token == token))
    if row is None:
        raise NotFound("open311_token_not_found")
    return row


# ---- staff --------------------------------------------------------------------------------------------


def submitter_contact(user: User, report_id: str, reason: str | None) -> dict:
    """The Open311 submitter's contact for staff in scope who must reach them: needs a reason, always audited."""
    if not _plausible(report_id, 36):
        raise NotFound()
    report = get_for_staff(user, report_id)
    reason = audit.access_reason(reason)
    submission = db.session.scalar(select(Submission).where(Submission.report_id == report.id))
    if submission is None:
        raise NotFound()
    contact = (
        json.loads(cipher().decrypt(submission.contact_sealed, CONTACT_PURPOSE)) if submission.contact_sealed else {}
    )
    audit.record(
        db.session,
        actor=user,
        subject_id=None,
        action="open311.submitter.read",
        fields=tuple(sorted(contact)),
        reason=f"report {report.id}: {reason}",
    )
    db.session.commit()
    return {
        "report_id": report.id,
        **{name: contact.get(name) for name in CONTACT_FIELDS},
        "media_url": submission.media_url,
        "attributes": submission.attributes,
    }
