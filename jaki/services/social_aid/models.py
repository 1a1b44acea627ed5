"""Social aid (bansos) held locally: programmes, the DTKS welfare register, enrolments and disbursements."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, TimestampMixin

ENROLMENT_STATUSES = ("aktif", "dalam_verifikasi", "ditangguhkan", "berakhir", "ditolak")
DISBURSEMENT_STATUSES = ("cair", "dijadwalkan", "gagal")


class AidProgramme(Base):
    __tablename__ = "svc_aid_programmes"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)  # KJP_PLUS, KJMU, KLJ, KPDJ, KAJ, ...
    name: Mapped[str] = mapped_column(String(150))
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    umbrella: Mapped[str | None] = mapped_column(String(20))  # PKD for KLJ, KPDJ, KAJ
    description: Mapped[str] = mapped_column(String(400))


class DtksEntry(TimestampMixin, Base):
    """A person in the social welfare register (DTKS, now DTSEN): the basis of every bansos eligibility."""

    __tablename__ = "svc_dtks_entries"

    nik_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    desil: Mapped[int]  # welfare decile 1 (poorest) .. 10
    disability: Mapped[bool] = mapped_column(default=False)
    verified_on: Mapped[date] = mapped_column(Date)


class AidEnrolment(TimestampMixin, Base):
    __tablename__ = "svc_aid_enrolments"
    __table_args__ = (UniqueConstraint("nik_index", "programme_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nik_index: Mapped[str] = mapped_column(String(64), index=True)
    programme_code: Mapped[str] = mapped_column(ForeignKey("svc_aid_programmes.code"))
    status: Mapped[str] = mapped_column(String(20))
    since: Mapped[date] = mapped_column(Date)
    monthly_amount: Mapped[int]  # rupiah
    next_disbursement_on: Mapped[date | None] = mapped_column(Date)
    bank: Mapped[str] = mapped_column(String(30), default="Bank DKI")
    account_number: Mapped[str | None] = mapped_column(String(30))  # shown masked


class AidDisbursement(Base):
    __tablename__ = "svc_aid_disbursements"
    __table_args__ = (UniqueConstraint("enrolment_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("svc_aid_enrolments.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))  # 2026-10
    amount: Mapped[int]
    disbursed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="cair")
