"""The citizen's access log: every read of their personal data by someone else, recorded and shown newest first."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import exists, insert, or_, select

from jaki.agencies.models import Agency
from jaki.api import Keyset, Page
from jaki.auth.crypto import cipher
from jaki.auth.models import User
from jaki.auth.phones import normalize_phone
from jaki.db import utcnow
from jaki.errors import Conflict, Forbidden, NotFound, field_error
from jaki.events import record_event
from jaki.extensions import db
from jaki.i18n import translate
from jaki.pdp.models import AccessLogEntry
from jaki.services.household import household_for
from jaki.settings import setting

log = logging.getLogger(__name__)

OFFICIAL, AGENCY_PULL, OPEN311_CONTACT, EXPORT = "official", "agency_pull", "open311_contact", "export"
# The organisation of a read by jaki's own staff (admins) when they belong to no agency.
JAKI = "JAKI"
NEW_AGENCY_EVENT = "pdp.access.new_agency"


def kind_of(action: str) -> str:
    if action.startswith("open311."):
        return OPEN311_CONTACT
    if "export" in action:
        return EXPORT
    return OFFICIAL


def contact_index(value: str | None) -> str | None:
    """A blind index of a phone number or email address, so an Open311 submitter's reads reach their account."""
    if not value:
        return None
    text = value.strip().lower()
    if "@" not in text:
        try:
            text = normalize_phone(text)
        except Exception:  # noqa: BLE001 - a phone jaki cannot read matches no account
            return None
    return "c:" + cipher().blind_index(text, "contact")


def subject_indexes_of_user(user) -> list[str]:
    """The keys the user's own entries are filed under: their NIK's blind index, their phone's and email's."""
    keys = [user.nik_index]
    for value in (user.phone, user.email):
        key = contact_index(value)
        if key:
            keys.append(key)
    return keys


def record_read(
    session,
    *,
    subject_index: str | None = None,
    subject_id: str | None = None,
    subject_contacts: Iterable[str | None] = (),
    actor=None,
    kind: str = OFFICIAL,
    action: str,
    fields: Iterable[str] = (),
    purpose: str | None = None,
    lawful_basis: str = "public_duty",
    agency_code: str | None = None,
    system: str = "jaki",
    audit_entry=None,
    break_glass_code: str | None = None,
    notify: bool = True,
) -> list[AccessLogEntry]:
    """The one way a read of someone's personal data reaches their access log (jaki.audit.record calls it).

    The subject is named by NIK blind index, by account id, or by the contact data an Open311 client sent.
    Added to the caller's transaction; the first read by an agency new to the person queues a notification.
    """
    keys: list[str] = []
    user_id = subject_id
    if subject_index:
        keys.append(subject_index)
    elif subject_id:
        index = session.scalar(select(User.nik_index).where(User.id == subject_id))
        if index:
            keys.append(index)
    keys += [k for k in (contact_index(c) for c in subject_contacts) if k and k not in keys]
    if not keys:
        return []
    actor_id = getattr(actor, "id", None)
    if actor_id is not None and actor_id == subject_id:
        return []  # the person's own read is not someone else's
    if audit_entry is not None and audit_entry.id is None:
        session.flush()  # the audit row's id links the two
    organisation = agency_code or getattr(actor, "agency_code", None) or (JAKI if actor is not None else None)
    areas = getattr(actor, "area_codes", None) if actor is not None else None
    entries = []
    for key in keys:
        new_agency = (
            notify
            and organisation is not None
            and not session.scalar(
                select(exists().where(AccessLogEntry.subject_index == key, AccessLogEntry.agency_code == organisation))
            )
        )
        entry = AccessLogEntry(
            at=utcnow(),
            subject_index=key,
            kind=kind,
            action=action[:60],
            actor_id=actor_id,
            actor_role=getattr(actor, "role", None),
            actor_unit=",".join(areas)[:200] if areas else None,
            agency_code=organisation,
            system=system,
            fields=",".join(fields)[:300] or None,
            purpose=purpose,
            lawful_basis=lawful_basis,
            audit_id=getattr(audit_entry, "id", None),
            break_glass=break_glass_code is not None,
            break_glass_code=break_glass_code,
            review_status="pending" if break_glass_code else None,
        )
        session.add(entry)
        entries.append(entry)
        if new_agency:
            _notify_new_agency(session, key, user_id, organisation)
    return entries


def _notify_new_agency(session, key: str, user_id: str | None, organisation: str) -> None:
    """Tell the account holder (or, for a child, nobody yet: the parent sees it in the log) through the outbox."""
    recipient = user_id
    if recipient is None and not key.startswith("c:"):
        recipient = session.scalar(select(User.id).where(User.nik_index == key))
    if recipient is None:
        return
    record_event(
        session,
        NEW_AGENCY_EVENT,
        "user",
        recipient,
        {"recipients": [recipient], "data": {"agency_code": organisation}},
    )


def record_agency_pulls(session, pulls: Iterable[tuple[str, str, Iterable[str], list[str]]], *, purpose: str) -> int:
    """Connector calls made to agencies for a citizen (the overview): (domain, agency, fields, subject indexes).

    One multi-row INSERT in the caller's transaction: the citizen asked for these themselves, so no notification,
    and no ORM objects (a cold overview makes a dozen calls)."""
    now = utcnow()
    rows = [
        {
            "at": now,
            "subject_index": index,
            "kind": AGENCY_PULL,
            "action": f"services.{domain}.pull"[:60],
            "agency_code": agency_code,
            "system": f"connector:{domain}"[:40],
            "fields": ",".join(fields)[:300] or None,
            "purpose": purpose,
            "lawful_basis": "public_duty",
            "break_glass": False,
        }
        for domain, agency_code, fields, subjects in pulls
        for index in subjects
    ]
    if rows:
        session.execute(insert(AccessLogEntry.__table__), rows)
    return len(rows)


# ---- reading the log ----------------------------------------------------------------------------------

ORDER = Keyset((AccessLogEntry.id,), ("int",), descending=True)


def visible_condition(keys: list[str], now: datetime):
    return (
        AccessLogEntry.subject_index == keys[0] if len(keys) == 1 else AccessLogEntry.subject_index.in_(keys),
        or_(AccessLogEntry.delayed_until.is_(None), AccessLogEntry.delayed_until <= now),
    )


def my_access_log(user, *, limit: int, cursor: str | None) -> Page:
    """The citizen's log and, for a parent, their minor children's: newest first; delayed entries once due."""
    household = household_for(user)
    keys = subject_indexes_of_user(user) + [m.subject.nik_index for m in household.dependents]
    whose = {m.subject.nik_index: m.header() for m in household.dependents}
    items, next_cursor = _newest(keys, limit, cursor)
    return Page([present(e, whose.get(e.subject_index)) for e in items], next_cursor)


def _newest(keys: list[str], limit: int, cursor: str | None) -> tuple[list[AccessLogEntry], str | None]:
    """One index range per key (subject_index, id), newest first, merged here: an IN over the keys made PostgreSQL
    read every entry of the person and sort them (60 ms at 2,300 entries, growing with the log)."""
    after = ORDER.decode(cursor)
    now = utcnow()
    rows: list[AccessLogEntry] = []
    for key in dict.fromkeys(keys):
        query = select(AccessLogEntry).where(*visible_condition([key], now))
        if after is not None:
            query = query.where(ORDER.after(after))
        rows += db.session.scalars(query.order_by(*ORDER.order_by()).limit(limit + 1))
    rows.sort(key=lambda e: e.id, reverse=True)
    items = rows[:limit]
    return items, ORDER.encode(ORDER.key_of(items[-1])) if len(rows) > limit else None


def _official_name(entry: AccessLogEntry) -> str | None:
    """The official's name only where policy allows: a break-glass read, or a role the settings name."""
    if entry.actor_id is None or entry.kind != OFFICIAL:
        return None
    if not (entry.break_glass or entry.actor_role in setting("PDP_ACCESS_LOG_NAMED_ROLES")):
        return None
    actor = db.session.get(User, entry.actor_id)
    return actor.full_name if actor is not None and actor.status != "deleted" else None


def present(entry: AccessLogEntry, member: dict | None = None) -> dict:
    return {
        "id": entry.id,
        "at": entry.at,
        "kind": entry.kind,
        "kind_label": translate(f"pdp_access_kind_{entry.kind}"),
        "action": entry.action,
        "organisation": {"agency_code": entry.agency_code, "name": _agency_name(entry.agency_code)},
        "system": entry.system,
        "official": None
        if entry.kind != OFFICIAL
        else {"role": entry.actor_role, "unit": entry.actor_unit, "name": _official_name(entry)},
        "fields": entry.fields.split(",") if entry.fields else [],
        "purpose": entry.purpose,
        "lawful_basis": entry.lawful_basis,
        "break_glass": entry.break_glass,
        "review_status": entry.review_status,
        "delayed": entry.delayed_until is not None,
        "delayed_until": entry.delayed_until,
        "member": member,
    }


def _agency_name(code: str | None) -> str | None:
    if code is None:
        return None
    if code == JAKI:
        return "Pemprov DKI Jakarta (JAKI)"
    agency = db.session.get(Agency, code)
    return agency.name if agency is not None else code


def entry_id(text: str) -> int:
    """An entry's id from a path (authentication comes first, so the path takes any text): 404 unless an id."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound()
    return int(text)


def delay_entry(admin, entry_id: int, until: datetime, reason: str) -> AccessLogEntry:
    """An investigation holds an entry back from the citizen until `until`: at most PDP_ACCESS_DELAY_MAX_DAYS after
    the read itself, so no extension can hide it for good."""
    entry = db.session.get(AccessLogEntry, entry_id)
    if entry is None:
        raise NotFound()
    latest = entry.at + timedelta(days=setting("PDP_ACCESS_DELAY_MAX_DAYS"))
    if until <= utcnow() or until > latest:
        raise field_error("until", "pdp_delay_too_long", days=setting("PDP_ACCESS_DELAY_MAX_DAYS"))
    entry.delayed_until, entry.delay_reason = until, reason
    log.info("access log entry delayed", extra={"entry_id": entry.id, "by": admin.id})
    db.session.commit()
    return entry


# ---- break-glass reads: the supervisor's review ----------------------------------------------------------

REVIEW_ORDER = Keyset((AccessLogEntry.id,), ("int",), descending=True)


def _supervises(supervisor, entry: AccessLogEntry) -> bool:
    return supervisor.role == "admin" or (
        supervisor.role == "agency_admin" and supervisor.agency_code and supervisor.agency_code == entry.agency_code
    )


def break_glass_queue(supervisor, *, status: str, limit: int, cursor: str | None) -> Page:
    """Break-glass reads awaiting (or past) review: an agency admin sees their agency's, an admin every one."""
    query = select(AccessLogEntry).where(AccessLogEntry.break_glass.is_(True), AccessLogEntry.review_status == status)
    if supervisor.role != "admin":
        query = query.where(AccessLogEntry.agency_code == supervisor.agency_code)
    return REVIEW_ORDER.page(query, limit=limit, cursor=cursor)


def review(supervisor, entry_id: int, verdict: str, note: str | None) -> AccessLogEntry:
    entry = db.session.get(AccessLogEntry, entry_id)
    if entry is None or not entry.break_glass:
        raise NotFound()
    if not _supervises(supervisor, entry) or supervisor.id == entry.actor_id:
        raise Forbidden()  # nobody reviews their own read
    if entry.review_status != "pending":
        raise Conflict("pdp_review_done")
    entry.review_status, entry.reviewed_by_id, entry.reviewed_at, entry.review_note = (
        verdict,
        supervisor.id,
        utcnow(),
        note,
    )
    db.session.commit()
    return entry
