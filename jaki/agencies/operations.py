"""The agency registry's views: public integration counts, and per-agency integration health for admins."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from jaki.agencies.models import Agency
from jaki.agencies.registry import domains_calling
from jaki.clients import agencies as agency_clients
from jaki.errors import NotFound
from jaki.extensions import db


def _ordered() -> list[Agency]:
    return list(db.session.scalars(select(Agency).order_by(Agency.kind, Agency.code)))


def public_list() -> list[Agency]:
    return _ordered()


def integration_summary() -> dict:
    """How many of the Pemprov's offices are integrated (the kelurahan/kecamatan offices and the bodies outside the
    Pemprov are not counted)."""
    rows = [a for a in _ordered() if a.kind not in ("wilayah", "external")]
    totals, integrated = Counter(a.kind for a in rows), Counter(a.kind for a in rows if a.integrated)
    return {
        "total": len(rows),
        "integrated": sum(integrated.values()),
        "not_integrated": len(rows) - sum(integrated.values()),
        "by_kind": {kind: {"total": totals[kind], "integrated": integrated[kind]} for kind in sorted(totals)},
    }


def domains_served(code: str) -> list[str]:
    """The public-service domains whose connector calls this agency (the population registry is Dukcapil's)."""
    served = domains_calling(code)
    if code == "DUKCAPIL":
        served.append("population")
    return served


def _connector(agency: Agency) -> dict:
    """Which connector serves the agency's domains, and its health. Never the URL's credentials or token."""
    served = domains_served(agency.code)
    url = agency_clients.agency_url(agency.code)
    if not served:
        return {"connector": None, "domains_served": [], "health": None}
    if url is None:
        return {
            "connector": "local",
            "domains_served": served,
            "host": None,
            "health": {"state": "local", "detail": "answered from jaki's own tables"},
        }
    snapshot = agency_clients.breaker_for(agency.code).snapshot()

    def when(key: str) -> datetime | None:
        value = snapshot.get(key)
        return datetime.fromtimestamp(value, UTC) if value is not None else None

    return {
        "connector": "http",
        "domains_served": served,
        "host": httpx.URL(url).host,
        "health": {
            "state": snapshot["state"],
            "last_success_at": when("last_success_at"),
            "last_failure_at": when("last_failure_at"),
            "error_rate": snapshot.get("error_rate"),
            "calls_in_window": snapshot.get("calls_in_window"),
            "window_s": snapshot.get("window_s"),
            "opened_at": when("opened_at"),
            "half_open_at": when("half_open_at"),
            "store_available": snapshot.get("store_available"),
        },
    }


def detail(agency: Agency) -> dict:
    return {
        "code": agency.code,
        "name": agency.name,
        "short_name": agency.short_name,
        "kind": agency.kind,
        "domains": agency.domains or [],
        "integrated": agency.integrated,
        "integrated_since": agency.integrated_since,
        **_connector(agency),
    }


def admin_list() -> list[dict]:
    return [detail(a) for a in _ordered()]


def admin_get(code: str) -> dict:
    agency = db.session.get(Agency, code)
    if agency is None:
        raise NotFound()
    return detail(agency)


def reset_breaker(code: str) -> dict:
    agency = db.session.get(Agency, code)
    if agency is None:
        raise NotFound()
    agency_clients.breaker_for(code).reset()
    return detail(agency)
