"""Statistics tables: exact report counts per month and cell (kept by triggers) and the medians rollup."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base


class ReportStat(Base):
    """How many reports filed in a Jakarta month lie in a kelurahan, category, agency and status, and how many of
    them met or broke their SLA or were reopened.

    Kept by database triggers on reports (migration 0014) for every writer, the ORM, bulk SQL and COPY alike; on
    PostgreSQL they are deferred to commit, as the map's tile counts are. `flask stats recount` rebuilds it.
    kelurahan_code is '' for the few reports stored with no kelurahan. Statistics over a year read these rows (a few
    thousand a month), never the reports table.
    """

    __tablename__ = "report_stats"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the WIB month of created_at
    kelurahan_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    sla_met: Mapped[int] = mapped_column(Integer, default=0)  # resolved by sla_due_at
    sla_breached: Mapped[int] = mapped_column(Integer, default=0)  # flagged past due, or resolved after it
    reopened: Mapped[int] = mapped_column(Integer, default=0)  # reopened at least once


class StatsRollup(Base):
    """Medians, p90 and the rating average of one query shape (grouping and filters), computed from the reports.

    Medians cannot be added up from counts, so each shape asked for is computed once and then kept fresh by a
    periodic task (jaki.stats.tasks.refresh_rollups); answers say when it was computed (`as_of`). A shape nobody
    asked for in STATS_ROLLUP_KEEP_DAYS is dropped.
    """

    __tablename__ = "report_stats_rollups"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the canonical shape
    shape: Mapped[dict] = mapped_column(JSON)
    rows: Mapped[dict] = mapped_column(JSON)  # group key -> measures; "" is the total
    computed_at: Mapped[datetime]
    requested_at: Mapped[datetime] = mapped_column(index=True)
    compute_ms: Mapped[int] = mapped_column(Integer, default=0)
