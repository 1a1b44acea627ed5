"""Agency (dinas/badan) rows: who answers for a report category or a public service, and whether it is integrated."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Date, String, false
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, TimestampMixin

# external: a body outside the Pemprov (PAM Jaya, PLN, ...) that receives reports (jaki.reports.external).
KINDS = ("dinas", "badan", "biro", "sekretariat", "inspektorat", "satpol", "kota", "wilayah", "external")


class Agency(TimestampMixin, Base):
    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(60))
    # dinas | badan | biro | ... ; "wilayah" are the kelurahan/kecamatan offices, not counted among the dinas.
    kind: Mapped[str] = mapped_column(String(20), default="dinas", server_default="dinas")
    # Public-service domains it answers for (health, education, social_aid, tax, permits, letters, population).
    domains: Mapped[list] = mapped_column(JSON, default=list)
    # Integrated with Satu Data / jaki (an API we can call or data we hold); the rest are listed, not connected.
    integrated: Mapped[bool] = mapped_column(default=False, server_default=false())
    integrated_since: Mapped[date | None] = mapped_column(Date)
    # Where citizens pay what this agency bills (Bapenda's portal), shown in reminders; None when it has none.
    pay_url: Mapped[str | None] = mapped_column(String(300))
