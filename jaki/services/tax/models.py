"""Local tax bills: PBB-P2 per NOP and PKB per vehicle, with the reminders already sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, TimestampMixin

KINDS = ("pbb", "pkb")


class TaxBill(TimestampMixin, Base):
    __tablename__ = "svc_tax_bills"
    __table_args__ = (UniqueConstraint("kind", "object_id", "tax_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nik_index: Mapped[str] = mapped_column(String(64), index=True)  # the taxpayer (wajib pajak)
    kind: Mapped[str] = mapped_column(String(4))
    object_id: Mapped[str] = mapped_column(String(40))  # NOP 31.74.050.002.012-0123.0 or plate B 1234 SJA
    object_label: Mapped[str] = mapped_column(String(200))  # address of the property, or make and model
    tax_year: Mapped[int]
    amount: Mapped[int]  # rupiah; 0 when exempt
    exemption: Mapped[str | None] = mapped_column(String(60))  # e.g. the 2025 PBB home exemption
    due_on: Mapped[date] = mapped_column(Date, index=True)
    payment_code: Mapped[str | None] = mapped_column(String(40))  # kode bayar for the bank, ATM or e-wallet
    paid_at: Mapped[datetime | None]
    reminded_7d_at: Mapped[datetime | None]
    reminded_1d_at: Mapped[datetime | None]
