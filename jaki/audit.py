"""Audit trail of access to other people's personal data (UU PDP: who, whose, what, when, why)."""

from __future__ import annotations

from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, utcnow
from jaki.errors import field_error
from jaki.inputs import storable
from jaki.pdp.access import kind_of, record_read


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(20))
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))  # e.g. "user.read", "user.nik.reveal"
    fields: Mapped[str | None] = mapped_column(String(300))  # comma-separated names, never values
    reason: Mapped[str | None] = mapped_column(Text)
    lawful_basis: Mapped[str] = mapped_column(String(30), default="public_duty")
    client: Mapped[str | None] = mapped_column(String(60))


def record(
    session,
    *,
    actor,
    subject_id: str | None,
    action: str,
    fields=(),
    reason: str | None = None,
    lawful_basis: str = "public_duty",
    subject_contacts=(),
    break_glass_code: str | None = None,
    subject_index: str | None = None,
) -> AuditEntry:
    """Add an audit row to the caller's transaction (so a read that fails to audit is not served), and the matching
    entry of the person's access log (jaki.pdp.access.record_read: what the citizen sees of it).

    subject_index: the NIK blind index of a person who may have no account (a child): their parents see the entry.
    subject_contacts: the contact data of a person who is not an account here (an Open311 submitter)."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_role=getattr(actor, "role", None),
        subject_id=subject_id,
        action=action,
        fields=",".join(fields) or None,
        reason=reason,
        lawful_basis=lawful_basis,
        client=(request.remote_addr if has_request_context() else None),
    )
    session.add(entry)
    record_read(
        session,
        subject_index=subject_index,
        subject_id=subject_id,
        subject_contacts=subject_contacts,
        actor=actor,
        kind=kind_of(action),
        action=action,
        fields=fields,
        purpose=reason,
        lawful_basis=lawful_basis,
        audit_entry=entry,
        break_glass_code=break_glass_code,
    )
    return entry


REASON_MAX_LENGTH = 300


def access_reason(reason: str | None, field: str = "X-Access-Reason") -> str:
    """The reason a staff member states for reading someone's personal data, stripped: 422 unless it has 5 to 300
    characters and none PostgreSQL cannot store (NUL) or a log should not carry (control characters)."""
    if not reason or len(reason.strip()) < 5 or not storable(reason) or any(ord(c) < 32 for c in reason):
        raise field_error(field, "reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise field_error(field, "reason_too_long", max=REASON_MAX_LENGTH)
    return reason.strip()
