"""The agency integration board: the Pemprov's 52 offices, integrated or not, and each connector's health.

Breaker state comes from the breakers' shared store and latency and last success from the call record the agency
HTTP client keeps (jaki.clients.call_stats): both in Redis when configured, so any process's board sees every
process's calls.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from jaki.agencies.models import Agency
from jaki.agencies.operations import domains_served
from jaki.clients import agencies as agency_clients
from jaki.extensions import db


def _when(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def board(*, agency: str | None = None) -> dict:
    """Every office (the kelurahan and kecamatan offices are not among the 52), with its connector's health."""
    offices = list(
        # Nor are the bodies outside the Pemprov (kind external, issue 15).
        db.session.scalars(
            select(Agency).where(Agency.kind.not_in(("wilayah", "external"))).order_by(Agency.kind, Agency.code)
        )
    )
    integrated = sum(1 for a in offices if a.integrated)
    http_codes = [a.code for a in offices if agency_clients.agency_url(a.code) and domains_served(a.code)]
    calls = agency_clients.call_recorder().read(http_codes) if http_codes else {}
    rows = []
    for office in offices:
        if agency and office.code != agency:
            continue
        served = domains_served(office.code)
        row = {
            "code": office.code,
            "name": office.name,
            "short_name": office.short_name,
            "kind": office.kind,
            "integrated": office.integrated,
            "integrated_since": office.integrated_since,
            "domains_served": served,
            "connector": None,
            "breaker_state": None,
            "calls": None,
            "failures": None,
            "latency_p50_ms": None,
            "latency_p95_ms": None,
            "last_latency_ms": None,
            "last_success_at": None,
            "last_failure_at": None,
        }
        if served:
            row["connector"] = "local"
        if office.code in http_codes:
            seen = (calls or {}).get(office.code)
            row["connector"] = "http"
            row["breaker_state"] = agency_clients.breaker_for(office.code).state
            if seen is None:
                row["calls"] = None  # the store could not be read: unknown, not zero
            else:
                row.update(
                    calls=seen["calls"],
                    failures=seen["failures"],
                    latency_p50_ms=seen["latency_p50_ms"],
                    latency_p95_ms=seen["latency_p95_ms"],
                    last_latency_ms=seen["last_latency_ms"],
                    last_success_at=_when(seen["last_success_at"]),
                    last_failure_at=_when(seen["last_failure_at"]),
                )
        rows.append(row)
    return {
        "total": len(offices),
        "integrated": integrated,
        "not_integrated": len(offices) - integrated,
        "connected": len(http_codes),
        "rows": rows,
    }
