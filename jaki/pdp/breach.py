"""Breach response: the affected citizens from the records and the audit trail, notices and the authority's report."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select

import jaki.models  # noqa: F401 - every table on the metadata
from jaki.audit import AuditEntry
from jaki.auth.models import User
from jaki.db import utcnow
from jaki.events import record_event
from jaki.extensions import db
from jaki.pdp.models import BreachReport
from jaki.settings import setting
from jaki.timezone import WIB

log = logging.getLogger(__name__)

# Columns naming whose a row is (an account id or a NIK blind index), and when it was written or read.
SUBJECT_COLUMNS = ("user_id", "reporter_id", "applicant_id", "subject_id", "recipient_id", "author_id", "nik_index")
TIME_COLUMNS = ("at", "created_at", "updated_at", "issued_at", "given_on")
NOTICE_EVENT = "pdp.breach.notice"


class BreachInputError(ValueError):
    pass


@dataclass
class Scope:
    table: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: list[str] = field(default_factory=list)
    actor_id: str | None = None  # a compromised staff account: everything it read in the window

    def describe(self) -> dict:
        return {
            "table": self.table,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "ids": self.ids[:1000],
            "actor_id": self.actor_id,
        }


def _table(name: str):
    table = db.metadata.tables.get(name)
    if table is None:
        raise BreachInputError(f"unknown table {name!r}")
    return table


def _column(table, names: tuple[str, ...]):
    return next((table.c[n] for n in names if n in table.c), None)


def affected(scope: Scope) -> tuple[set[str], set[str], list[str], int]:
    """(citizen accounts to notify, NIK blind indexes of people without an account here, the columns exposed,
    how many affected accounts are closed since: counted in the report, nobody left to notify)."""
    if not scope.ids and not (scope.since and scope.until):
        raise BreachInputError("give --ids, or --since and --until")
    users: set[str] = set()
    indexes: set[str] = set()
    exposed: list[str] = []
    if scope.table:
        table = _table(scope.table)
        exposed = [c.name for c in table.c]
        subject = table.c.id if scope.table == "users" else _column(table, SUBJECT_COLUMNS)
        if subject is None:
            raise BreachInputError(f"table {scope.table!r} names no person")
        query = select(subject)
        if scope.ids:
            pk = next(iter(table.primary_key.columns))
            query = query.where(pk.in_([_typed(pk, v) for v in scope.ids]))
        else:
            stamp = _column(table, TIME_COLUMNS)
            if stamp is None:
                raise BreachInputError(f"table {scope.table!r} has no time column: give --ids")
            query = query.where(stamp >= scope.since, stamp < scope.until)
        values = {v for v in db.session.scalars(query) if v}
        (indexes if subject.name == "nik_index" else users).update(values)
    if scope.since and scope.until:
        # The audit trail: every read of a person's data in the window (by the compromised account, if named).
        audit = select(AuditEntry.subject_id).where(
            AuditEntry.at >= scope.since, AuditEntry.at < scope.until, AuditEntry.subject_id.is_not(None)
        )
        if scope.actor_id:
            audit = audit.where(AuditEntry.actor_id == scope.actor_id)
        elif scope.table:
            audit = audit.where(or_(*_audit_actions(scope.table)))
        users.update(v for v in db.session.scalars(audit) if v)
    if indexes:
        found = dict(db.session.execute(select(User.nik_index, User.id).where(User.nik_index.in_(indexes))).all())
        users.update(found.values())
        indexes -= set(found)
    rows = db.session.execute(select(User.id, User.status, User.role).where(User.id.in_(users))).all() if users else []
    active = {r.id for r in rows if r.status != "deleted" and r.role == "citizen"}
    closed = sum(1 for r in rows if r.status == "deleted")
    return active, indexes, exposed, closed


# Which audit actions read which table's data (the trail names actions, not tables).
AUDIT_ACTIONS = {
    "users": ("user.",),
    "reports": ("report.",),
    "open311_submissions": ("open311.",),
    "svc_applications": ("permit.", "letter."),
    "svc_application_documents": ("permit.document", "letter.document"),
    "svc_aid_disbursements": ("social_aid.",),
    "svc_jkn_memberships": ("services.health.",),
    "svc_immunisations": ("services.health.",),
    "svc_school_enrolments": ("services.education.",),
    "svc_tax_bills": ("services.tax.",),
}


def _audit_actions(table: str):
    prefixes = AUDIT_ACTIONS.get(table, ("\x00",))
    return [AuditEntry.action.startswith(p) for p in prefixes]


def _typed(column, value: str):
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    return python_type(value) if python_type is int else value


def notices(reference: str, detected_at: datetime, notify_by: datetime) -> dict[str, dict[str, str]]:
    """The inbox and push texts in Indonesian and English: a lock screen shows no detail beyond the reference."""
    contact = setting("PDP_DPO_CONTACT")
    when = f"{detected_at.astimezone(WIB):%d-%m-%Y %H:%M} WIB"
    return {
        "id": {
            "push_title": "Pemberitahuan keamanan data",
            "push_body": f"Data pribadi Anda mungkin terdampak insiden keamanan ({reference}). Buka JAKI.",
            "inbox_title": f"Insiden keamanan data {reference}",
            "inbox_body": (
                f"Pada {when} kami menemukan insiden keamanan yang mungkin melibatkan data pribadi Anda. "
                "Kami telah menutup celahnya dan melaporkannya sesuai UU No. 27 Tahun 2022 tentang Pelindungan Data "
                "Pribadi. Lihat riwayat akses di menu Akses Data Saya; ganti kata sandi bila Anda ragu. "
                f"Pertanyaan: {contact} (sebutkan {reference})."
            ),
        },
        "en": {
            "push_title": "Data security notice",
            "push_body": f"Your personal data may have been affected by a security incident ({reference}). Open JAKI.",
            "inbox_title": f"Data security incident {reference}",
            "inbox_body": (
                f"On {when} we found a security incident that may involve your personal data. We have closed the gap "
                "and reported it as Law 27 of 2022 on Personal Data Protection requires. See who accessed your data "
                f"under My data access; change your password if in doubt. Questions: {contact} (quote {reference})."
            ),
        },
    }


def run(
    scope: Scope,
    *,
    detected_at: datetime,
    description: str,
    actions_taken: list[str],
    send: bool = False,
) -> BreachReport:
    """Work out who is affected, draft the notices and the report, store them; with send, queue the notices."""
    users, unmatched, exposed, closed = affected(scope)
    reference = f"BR-{utcnow().astimezone(WIB):%Y%m%d}-{secrets.token_hex(3).upper()}"
    notify_by = detected_at + timedelta(hours=setting("PDP_BREACH_NOTICE_HOURS"))
    texts = notices(reference, detected_at, notify_by)
    report = {
        "reference": reference,
        "controller": setting("PDP_CONTROLLER_NAME"),
        "contact": setting("PDP_DPO_CONTACT"),
        "what": {
            "description": description,
            "tables": [scope.table] if scope.table else [],
            "data_items": exposed,
            "specific_data": _specific(scope.table),
        },
        "when": {
            "window_start": scope.since.isoformat() if scope.since else None,
            "window_end": scope.until.isoformat() if scope.until else None,
            "detected_at": detected_at.isoformat(),
            "subjects_and_authority_notified_by": notify_by.isoformat(),
        },
        "how_many": {
            "accounts": len(users),
            "people_without_account": len(unmatched),
            "closed_accounts": closed,
            "records": len(scope.ids) if scope.ids else None,
        },
        "what_was_done": actions_taken,
        "notices": texts,
    }
    row = BreachReport(
        reference=reference,
        detected_at=detected_at,
        notify_by=notify_by,
        scope=scope.describe(),
        affected_count=len(users) + len(unmatched) + closed,
        report=report,
    )
    db.session.add(row)
    if send and users:
        _queue_notices(row, sorted(users))
    db.session.commit()
    log.warning("breach report drafted", extra={"reference": reference, "affected": row.affected_count})
    return row


def _specific(table: str | None) -> bool:
    """Health, children's and financial data are specific personal data (UU PDP art. 4)."""
    return bool(table) and any(word in table for word in ("jkn", "immunisation", "health", "aid", "tax", "school"))


def _queue_notices(row: BreachReport, users: list[str]) -> None:
    """Through the outbox, in batches the relay accepts (NOTIFY_MAX_RECIPIENTS per event)."""
    size = max(int(setting("NOTIFY_MAX_RECIPIENTS")), 1)
    for start in range(0, len(users), size):
        record_event(
            db.session,
            NOTICE_EVENT,
            "pdp_breach",
            row.reference,
            {"recipients": users[start : start + size], "data": {"reference": row.reference}},
        )
    row.notices_sent_at = utcnow()
