"""The citizen's services at once: local sections in the request thread, agency calls concurrently, cache."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from jaki import audit
from jaki.agencies.models import Agency
from jaki.auth import nik as nik_mod
from jaki.auth.crypto import nik_index
from jaki.auth.models import User
from jaki.auth.operations import parse_nik
from jaki.clients.agency_client import AgencyError
from jaki.db import utcnow
from jaki.errors import Forbidden, NotFound, Unavailable
from jaki.extensions import db
from jaki.i18n import translate
from jaki.pdp.access import record_agency_pulls
from jaki.pdp.corrections import disputed_fields
from jaki.services import connectors
from jaki.services.cache import CacheEntry, DatabaseCache, fingerprint, section_cache
from jaki.services.connectors import HttpConnector, Subject
from jaki.services.household import Household, Member, household_for, member_id
from jaki.settings import setting
from jaki.timezone import WIB, jakarta_today

log = logging.getLogger(__name__)

OK, STALE, UNAVAILABLE = "ok", "stale", "unavailable"


@dataclass
class Section:
    domain: str
    agency_code: str
    connector: str  # local | http
    status: str
    as_of: datetime | None = None
    cached: bool = False
    reason: str | None = None  # why it is stale or unavailable: timeout, circuit_open, malformed, ...
    people: list[dict] | None = None

    def to_dict(self) -> dict:
        message = None
        if self.status == STALE:
            message = translate(
                "section_stale",
                agency=agency_name(self.agency_code),
                as_of=f"{self.as_of.astimezone(WIB):%d-%m-%Y %H:%M} WIB",
            )
        elif self.status == UNAVAILABLE:
            message = translate("section_unavailable", agency=agency_name(self.agency_code))
        return {
            "domain": self.domain,
            "status": self.status,
            "as_of": self.as_of,
            "cached": self.cached,
            "source": {"agency_code": self.agency_code, "connector": self.connector},
            "reason": self.reason,
            "message": message,
            "data": {"people": self.people} if self.people is not None else None,
        }


_names: dict[str, str] = {}


def agency_name(code: str) -> str:
    """The short name citizens know (Bapenda, Dinas Kesehatan's "Kesehatan"), remembered per process."""
    name = _names.get(code)
    if name is None:
        agency = db.session.get(Agency, code)
        if agency is None:
            return code
        name = _names.setdefault(code, agency.short_name)
    return name


def _people(members: list[Member], data: dict[str, dict]) -> list[dict]:
    return [{**m.header(), **data[m.member_id]} for m in members if m.member_id in data]


def _members_for(spec, household: Household) -> list[Member]:
    return household.visible if spec.dependents else [household.me]


@dataclass
class _Pending:
    domain: str
    connector: HttpConnector
    members: list[Member]
    futures: list[Future]
    cached: CacheEntry | None
    fingerprint: str


def gather(user, names: list[str], *, refresh: bool = False, household: Household | None = None) -> dict:
    """Every requested domain's section for the user. Never raises for an agency's failure.

    Local connectors run here (they share the request's database session). HTTP connectors run in the
    bounded pool, one call per person, all at once; each call ends by its own deadline (AgencyClient) and the
    whole gathering by SERVICES_OVERVIEW_DEADLINE_SECONDS, so the answer takes about as long as the slowest
    agency that answers, never the sum. Worker threads get a NIK and return plain dicts: no session, no app.
    """
    started = time.monotonic()
    household = household or household_for(user)
    cache = section_cache()
    now = utcnow()
    fresh_for = timedelta(seconds=float(setting("SERVICES_CACHE_FRESH_SECONDS")))
    stale_for = timedelta(seconds=float(setting("SERVICES_CACHE_STALE_SECONDS")))
    sections: dict[str, Section] = {}
    pending: list[_Pending] = []
    subjects = {m.member_id: m.subject for m in household.visible}

    chosen = {name: connectors.connector_for(name) for name in names}
    remote = [name for name, connector in chosen.items() if isinstance(connector, HttpConnector)]
    cached = cache.get_many(user.id, remote)
    # Agencies first, so that the local sections are read while their answers are on the way.
    for name in remote:
        spec, connector = connectors.SPECS[name], chosen[name]
        members = _members_for(spec, household)
        fp = fingerprint([m.member_id for m in members])
        entry = cached.get(name)
        if entry is not None and entry.fingerprint != fp:
            entry = None  # the household changed: an answer about other people is no answer
        if entry is not None and not refresh and now - entry.as_of < fresh_for:
            sections[name] = Section(
                name, spec.agency_code, "http", OK, entry.as_of, cached=True, people=_people(members, entry.data)
            )
            continue
        futures = [connectors.pool().submit(connector.fetch_one, subjects[m.member_id]) for m in members]
        pending.append(_Pending(name, connector, members, futures, entry, fp))
    for name, connector in chosen.items():
        if name in remote:
            continue
        spec = connectors.SPECS[name]
        members = _members_for(spec, household)
        data = connector.fetch([subjects[m.member_id] for m in members])
        sections[name] = Section(name, spec.agency_code, "local", OK, now, people=_people(members, data))

    if pending:
        remaining = float(setting("SERVICES_OVERVIEW_DEADLINE_SECONDS")) - (time.monotonic() - started)
        everything = [f for p in pending for f in p.futures]
        wait(everything, timeout=max(remaining, 0.0))
    for p in pending:
        sections[p.domain] = _settle(user, p, cache, now, stale_for)
    pulls = [
        (p.domain, p.connector.agency_code, p.connector.schema().fields, [m.subject.nik_index for m in members])
        for p in pending
        if (members := _reached(p))
    ]
    if pulls:
        # Each call that reached an agency for these people is in their access log (jaki.pdp), whatever it answered.
        record_agency_pulls(db.session, pulls, purpose="overview")
    if pulls or (pending and isinstance(cache, DatabaseCache)):
        db.session.commit()  # the access log, and the cache rows of the embedded default
    return {name: sections[name] for name in names}


def _reached(p: _Pending) -> list[Member]:
    """The members whose call reached the agency: not cancelled before it started, not refused by the breaker."""
    out = []
    for member, future in zip(p.members, p.futures, strict=True):
        if future.cancelled():
            continue
        exc = future.exception() if future.done() else None
        if isinstance(exc, AgencyError) and exc.reason == "circuit_open":
            continue
        out.append(member)
    return out


def _settle(user, p: _Pending, cache, now: datetime, stale_for: timedelta) -> Section:
    agency = p.connector.agency_code
    reason = None
    for future in p.futures:
        if not future.done():
            future.cancel()  # not started yet: never will; started: ends by its own deadline
            reason = reason or "timeout"
        elif future.exception() is not None:
            exc = future.exception()
            reason = reason or (exc.reason if isinstance(exc, AgencyError) else "error")
            if not isinstance(exc, AgencyError):
                log.error("agency connector failed", extra={"domain": p.domain, "error": type(exc).__name__})
    if reason is None:
        data = {m.member_id: f.result() for m, f in zip(p.members, p.futures, strict=True)}
        ttl = int(stale_for.total_seconds())
        cache.put(user.id, p.domain, CacheEntry(p.fingerprint, now, data), ttl)
        return Section(p.domain, agency, "http", OK, now, people=_people(p.members, data))
    log.info("section not fresh", extra={"domain": p.domain, "agency": agency, "reason": reason})
    if p.cached is not None and now - p.cached.as_of < stale_for:
        return Section(
            p.domain,
            agency,
            "http",
            STALE,
            p.cached.as_of,
            cached=True,
            reason=reason,
            people=_people(p.members, p.cached.data),
        )
    return Section(p.domain, agency, "http", UNAVAILABLE, None, reason=reason)


def overview(user, *, refresh: bool = False) -> dict:
    household = household_for(user)
    sections = gather(user, connectors.domains(), refresh=refresh, household=household)
    return {
        "generated_at": utcnow(),
        "household": household_view(household),
        "sections": {name: s.to_dict() for name, s in sections.items()},
        "disputed": disputed_fields(user, [m.member_id for m in household.visible]),
    }


def section(user, name: str, *, refresh: bool = False) -> dict:
    return gather(user, [name], refresh=refresh)[name].to_dict()


def household_view(household: Household) -> dict:
    today = jakarta_today(utcnow())
    return {
        "status": household.status,
        "is_head": household.is_head,
        "members": [m.describe(today) for m in household.visible],
    }


# ---- officers: one person's records in their own agency's domain, audited -------------------------------


def officer_lookup(officer, name: str, nik: str, reason: str | None) -> dict:
    spec = connectors.SPECS.get(name)
    if spec is None:
        raise NotFound()
    if not spec.officer_agencies:
        raise Forbidden()
    if officer.role not in ("officer", "agency_admin") or officer.agency_code not in spec.officer_agencies:
        raise Forbidden("domain_not_for_agency")
    reason = audit.access_reason(reason, "reason")
    nik = parse_nik(nik).value  # "3174 0541 ..." as typed is the same person as 31740541...
    subject = Subject(member_id(nik), nik, nik_index(nik))
    connector = connectors.connector_for(name)
    if isinstance(connector, HttpConnector):
        try:
            data = connector.fetch_one(subject)
        except AgencyError as exc:
            raise Unavailable("agency_unavailable", agency=agency_name(spec.agency_code), reason=exc.reason) from None
    else:
        data = connector.fetch([subject])[subject.member_id]
    person = db.session.scalar(db.select(User.id).where(User.nik_index == subject.nik_index))
    # Recorded before it is served: a read that cannot be audited is not served.
    audit.record(
        db.session,
        actor=officer,
        subject_id=person,
        action=f"services.{name}.read",
        fields=(name, "nik_masked"),
        reason=reason,
        subject_index=subject.nik_index,  # a child without an account: the parents' access log shows it
    )
    db.session.commit()
    return {
        "domain": name,
        "nik_masked": nik_mod.mask(nik),
        "has_account": person is not None,
        "as_of": utcnow(),
        "data": data,
    }
