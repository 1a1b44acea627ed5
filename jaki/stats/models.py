"""Statistics tables: exact report counts per month and cell (kept by triggers) and the medians rollup."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base


class ReportStat(Base):
    """How many reports filed in a Jakarta month lie in an area, category, agency and status, and how many of them
    met or broke their SLA or were reopened, at four levels (jaki.stats.aggregates.LEVELS): 0 the city, 1 per
    kecamatan, 2 per kelurahan, each by category, agency and status; 3 per kelurahan by status alone.

    Kept by database triggers on reports (migration 0014) for every writer, the ORM, bulk SQL and COPY alike; on
    PostgreSQL they are deferred to commit, as the map's tile counts are. `flask stats recount` rebuilds it. A
    question reads the coarsest level that answers it: a year city-wide is a thousand rows, per kelurahan some tens
    of thousands, however many reports there are. area_code (and, at level 3, category and agency) is '' where the
    level does not split by it, and for the few reports stored with no kelurahan.
    """

    __tablename__ = "report_stats"
    __table_args__ = (
        Index("ix_report_stats_level_agency_month", "level", "agency_code", "month"),
        Index("ix_report_stats_level_category_month", "level", "category_code", "month"),
    )

    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the WIB month of created_at
    area_code: Mapped[str] = mapped_column(String(20), primary_key=True)
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


class ReportStatCell(Base):
    """How many reports filed in a Jakarta month lie in a kelurahan (and category), summed over agencies and
    statuses, with the status classes as columns: level 2 per kelurahan and category, level 3 per kelurahan alone
    (jaki.stats.aggregates.CELL_LEVELS).

    The questions that name no agency and no status (a year by kelurahan and category, by kecamatan) read these
    instead of report_stats' rows split by agency and status: a year per kelurahan is some thousands of rows, per
    kelurahan and category some tens of thousands. Kept by triggers on reports (migration 0014b) as report_stats
    is, for every writer; `flask stats recount` rebuilds both.
    """

    __tablename__ = "report_stat_cells"
    __table_args__ = (Index("ix_report_stat_cells_level_category_month", "level", "category_code", "month"),)

    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the WIB month of created_at
    area_code: Mapped[str] = mapped_column(String(20), primary_key=True)  # the kelurahan ('' for none)
    category_code: Mapped[str] = mapped_column(String(40), primary_key=True)  # '' at level 3
    count: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)  # in workflow.OPEN_STATUSES
    resolved: Mapped[int] = mapped_column(Integer, default=0)  # in workflow.RESOLVED_STATUSES
    sla_met: Mapped[int] = mapped_column(Integer, default=0)
    sla_breached: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
