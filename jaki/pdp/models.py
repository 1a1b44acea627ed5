"""The citizen's data rights: access log, correction requests, consent choices, deletion receipts, breach reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, new_uuid, utcnow


class AccessLogEntry(Base):
    """One read of a person's personal data by someone other than the person (Estonia's Data Tracker).

    Keyed by the person's NIK blind index, so that a child without an account has a log their parent sees; an
    Open311 submitter's entries carry the blind index of their contact phone or email instead.
    """

    __tablename__ = "pdp_access_log"
    __table_args__ = (Index("ix_pdp_access_log_subject_id", "subject_index", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    subject_index: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))  # official | agency_pull | open311_contact | export
    action: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    actor_unit: Mapped[str | None] = mapped_column(String(200))  # the official's working areas
    agency_code: Mapped[str | None] = mapped_column(String(20))  # the reading organisation (None: jaki itself)
    system: Mapped[str] = mapped_column(String(40), default="jaki")
    fields: Mapped[str | None] = mapped_column(String(300))  # names, never values
    purpose: Mapped[str | None] = mapped_column(Text)
    lawful_basis: Mapped[str] = mapped_column(String(30), default="public_duty")
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_log.id", ondelete="SET NULL"))
    # Need to know: a read outside the official's scope, with its reason code, waits for a supervisor's review.
    break_glass: Mapped[bool] = mapped_column(Boolean, default=False)
    break_glass_code: Mapped[str | None] = mapped_column(String(30))
    review_status: Mapped[str | None] = mapped_column(String(20), index=True)  # pending | justified | unjustified
    reviewed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(Text)
    # An investigation may delay an entry, never hide it for good: shown again (flagged) after this time.
    delayed_until: Mapped[datetime | None]
    delay_reason: Mapped[str | None] = mapped_column(String(300))


class CorrectionRequest(Base):
    """A citizen's request that an agency correct a field it holds (UU PDP: acknowledged within 3 x 24 hours)."""

    __tablename__ = "pdp_correction_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[str] = mapped_column(String(24))  # whose record: the citizen or one of their children
    domain: Mapped[str] = mapped_column(String(20))
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    requested_value: Mapped[str | None] = mapped_column(String(300))
    explanation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ack_due_at: Mapped[datetime] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]


class CorrectionEvent(Base):
    """The status trail of a correction request."""

    __tablename__ = "pdp_correction_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("pdp_correction_requests.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str | None] = mapped_column(String(20))  # citizen | officer | agency_admin | system
    note: Mapped[str | None] = mapped_column(Text)


class ConsentChoice(Base):
    """Optional processing a citizen may object to (area alerts by home location, programme marketing)."""

    __answer_owner__ = "user_id"  # a change drops this person's kept answers (jaki.caching)

    __tablename__ = "pdp_consent_choices"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(30), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Withdrawn: processing must have stopped by then (3 x 24 hours); the consent job checks it has.
    effective_by: Mapped[datetime | None]
    applied_at: Mapped[datetime | None]


class DeletionReceipt(Base):
    """What closing an account erased and kept, and why; holds no personal data (the reference is the receipt)."""

    __tablename__ = "pdp_deletion_receipts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    pseudonym: Mapped[str] = mapped_column(String(36), index=True)  # the account id the history keeps
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    summary: Mapped[dict] = mapped_column(JSON, default=dict)


class BreachReport(Base):
    """One run of `flask pdp breach-notice`: what, when, how many, what was done; the notices drafted."""

    __tablename__ = "pdp_breach_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    detected_at: Mapped[datetime]
    notify_by: Mapped[datetime]  # detected + 3 x 24 hours
    scope: Mapped[dict] = mapped_column(JSON, default=dict)  # tables, window or record ids
    affected_count: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    notices_sent_at: Mapped[datetime | None]
