"""Health records held locally: JKN (BPJS Kesehatan) membership, immunisations, scheduled visits."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, TimestampMixin

JKN_STATUSES = ("aktif", "tidak_aktif", "menunggak", "ditangguhkan")
JKN_SEGMENTS = ("PBI_APBN", "PBI_APBD", "PPU", "PBPU", "BP")  # who pays: state, Pemprov, employer, self, ...


class JknMembership(TimestampMixin, Base):
    __tablename__ = "svc_jkn_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    nik_index: Mapped[str] = mapped_column(String(64), unique=True)
    card_number: Mapped[str] = mapped_column(String(20))  # shown masked
    segment: Mapped[str] = mapped_column(String(12))
    care_class: Mapped[int]  # kelas rawat 1-3
    status: Mapped[str] = mapped_column(String(20))
    faskes_code: Mapped[str] = mapped_column(String(20))
    faskes_name: Mapped[str] = mapped_column(String(150))
    valid_until: Mapped[date | None] = mapped_column(Date)


class Immunisation(Base):
    __tablename__ = "svc_immunisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    nik_index: Mapped[str] = mapped_column(String(64), index=True)
    vaccine: Mapped[str] = mapped_column(String(60))
    dose: Mapped[int]
    given_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(150))


class HealthVisit(Base):
    """An appointment: posyandu, BIAS school immunisation day, puskesmas follow-up."""

    __tablename__ = "svc_health_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    nik_index: Mapped[str] = mapped_column(String(64), index=True)
    scheduled_for: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(30))  # posyandu | imunisasi | kontrol | skrining
    facility: Mapped[str] = mapped_column(String(150))
    purpose: Mapped[str] = mapped_column(String(150))
