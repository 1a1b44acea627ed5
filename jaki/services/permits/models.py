"""Permit applications (DPMPTSP) and kelurahan/kecamatan letters: one workflow, with documents and a timeline."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jaki.auth.models import User
from jaki.db import Base, TimestampMixin, new_uuid, utcnow

KINDS = ("permit", "letter")


class ApplicationType(Base):
    __tablename__ = "svc_application_types"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)  # SLF, PBG, SKD, SKTM, ...
    kind: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(150))
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    sla_days: Mapped[int]  # working days (Monday-Friday but holidays and cuti bersama, Jakarta time)
    documents: Mapped[list] = mapped_column(JSON, default=list)  # [{"kind", "name", "required"}]
    active: Mapped[bool] = mapped_column(default=True)


class Application(TimestampMixin, Base):
    __tablename__ = "svc_applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    type_code: Mapped[str] = mapped_column(ForeignKey("svc_application_types.code"), index=True)
    applicant_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(20), index=True)  # kelurahan of the object or the applicant
    object_address: Mapped[str | None] = mapped_column(String(300))
    purpose: Mapped[str | None] = mapped_column(String(300))  # letters: keperluan
    status: Mapped[str] = mapped_column(String(30), index=True, default="draft")
    submitted_at: Mapped[datetime | None]
    sla_due_at: Mapped[datetime | None] = mapped_column(index=True)
    sla_paused_at: Mapped[datetime | None]  # the clock stops while the applicant owes a revision
    sla_breached_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decision_number: Mapped[str | None] = mapped_column(String(60))  # nomor izin / nomor surat
    version: Mapped[int] = mapped_column(Integer, default=1)

    type: Mapped[ApplicationType] = relationship(lazy="joined")
    applicant: Mapped[User] = relationship(lazy="select")
    documents: Mapped[list[ApplicationDocument]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationDocument.uploaded_at", lazy="selectin"
    )
    events: Mapped[list[ApplicationEvent]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationEvent.id", lazy="selectin"
    )


class ApplicationDocument(Base):
    __tablename__ = "svc_application_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    application_id: Mapped[str] = mapped_column(ForeignKey("svc_applications.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(300))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApplicationEvent(Base):
    """The timeline: every status change, who made it and the note the applicant is shown."""

    __tablename__ = "svc_application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("svc_applications.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500))


class CalendarDay(TimestampMixin, Base):
    """A day the service-level clock treats differently from the holidays library: a cuti bersama or closure the
    library does not know yet ("holiday"), or a library holiday that offices work after all ("workday")."""

    __tablename__ = "svc_calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))  # e.g. Cuti bersama Idulfitri (SKB 3 Menteri 2027)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
