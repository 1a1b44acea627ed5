"""Enrolment of pupils and students held locally (the KJP Plus / KJMU aid itself lives with social aid)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, TimestampMixin

LEVELS = ("paud", "sd", "smp", "sma", "smk", "slb", "pkbm", "pt")
STATUSES = ("aktif", "lulus", "pindah", "putus_sekolah", "cuti")


class SchoolEnrolment(TimestampMixin, Base):
    __tablename__ = "svc_school_enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    nik_index: Mapped[str] = mapped_column(String(64), index=True)
    school_name: Mapped[str] = mapped_column(String(150))
    npsn: Mapped[str] = mapped_column(String(8))  # Nomor Pokok Sekolah Nasional
    level: Mapped[str] = mapped_column(String(8))
    grade: Mapped[str | None] = mapped_column(String(20))  # "7", or "semester 3" at university
    academic_year: Mapped[str] = mapped_column(String(9))  # 2026/2027
    status: Mapped[str] = mapped_column(String(20))
