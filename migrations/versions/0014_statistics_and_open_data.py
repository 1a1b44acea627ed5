"""Statistics and open data: exact report counts kept by triggers, the medians rollup, published files, sensitivity.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-02 09:00:00

report_stats counts the reports filed in each Jakarta (WIB) month per kelurahan, category, agency and status, with
how many of them met or broke their SLA and were reopened. Triggers on reports keep it exact for every writer (ORM,
bulk SQL, COPY; deferred to commit on PostgreSQL, as the map's tile counts are), so statistics over a year read a
few tens of thousands of rows however many reports there are. report_stats_rollups holds the medians (which cannot
be added up) per query shape, refreshed by a periodic task. open_data_files holds the published open-data files.
report_categories.sensitive publishes a category's counts at kecamatan level only. Existing reports are counted in
the same transaction.
"""

import sqlalchemy as sa
from alembic import op

import jaki.db

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None

_KEY = "level, month, area_code, category_code, agency_code, status"
_COLUMNS = f"{_KEY}, count, sla_met, sla_breached, reopened"
# Levels (jaki.stats.aggregates.LEVELS must match): 0 the city, 1 kecamatan, 2 kelurahan, 4 kota, each by category,
# agency and status; 3 kelurahan by status alone (the choropleth's rows, a sixth of level 2's).
_LEVELS = (0, 1, 2, 3, 4)
_SQLITE_LEVELS = " UNION ALL ".join(f"SELECT {k} AS level" for k in _LEVELS)
# What a report row contributes (jaki.stats.aggregates documents the definitions; its recount must match).
_MET = "CASE WHEN {r}.resolved_at IS NOT NULL AND {r}.resolved_at <= {r}.sla_due_at THEN 1 ELSE 0 END"
_BREACHED = "CASE WHEN {r}.sla_breached_at IS NOT NULL OR {r}.resolved_at > {r}.sla_due_at THEN 1 ELSE 0 END"
_REOPENED = "CASE WHEN {r}.reopen_count > 0 THEN 1 ELSE 0 END"
# Jakarta has no daylight saving: WIB is UTC+7 all year.
_PG_MONTH = "date_trunc('month', ({r}.created_at AT TIME ZONE 'UTC') + interval '7 hours')::date"
_SQLITE_MONTH = "strftime('%Y-%m-01', {r}.created_at, '+7 hours')"
_KEL = "coalesce({r}.kelurahan_code, '')"
_AREA = (
    "CASE k.level WHEN 0 THEN '' WHEN 1 THEN substr(" + _KEL + ", 1, 8) WHEN 4 THEN substr(" + _KEL + ", 1, 5) "
    "ELSE " + _KEL + " END"
)
_CATEGORY = "CASE k.level WHEN 3 THEN '' ELSE {r}.category_code END"
_AGENCY = "CASE k.level WHEN 3 THEN '' ELSE {r}.agency_code END"
_WATCHED = (
    "created_at",
    "kelurahan_code",
    "category_code",
    "agency_code",
    "status",
    "resolved_at",
    "sla_due_at",
    "sla_breached_at",
    "reopen_count",
)


def _keys(r: str, month: str) -> str:
    return (
        f"k.level AS level, {month.format(r=r)} AS month, {_AREA.format(r=r)} AS area_code, "
        f"{_CATEGORY.format(r=r)} AS category_code, {_AGENCY.format(r=r)} AS agency_code, {r}.status AS status"
    )


def _pg_row(r: str, sign: str) -> str:
    return (
        f"SELECT {_keys(r, _PG_MONTH)}, {sign}1 AS n, {sign}({_MET.format(r=r)}) AS met, "
        f"{sign}({_BREACHED.format(r=r)}) AS breached, {sign}({_REOPENED.format(r=r)}) AS reopened "
        f"FROM unnest(ARRAY[{', '.join(map(str, _LEVELS))}]) AS k(level)"
    )


# One statement per row change, its deltas summed per key and applied in key order (no deadlock between two
# transactions moving reports between the same rows), as report_map_tiles_sync does.
_PG_FUNCTION = f"""
CREATE FUNCTION report_stats_sync() RETURNS trigger AS $$
BEGIN
    INSERT INTO report_stats AS s ({_COLUMNS})
    SELECT d.level, d.month, d.area_code, d.category_code, d.agency_code, d.status,
           sum(d.n), sum(d.met), sum(d.breached), sum(d.reopened)
    FROM (
        {_pg_row("OLD", "-")} WHERE TG_OP IN ('UPDATE', 'DELETE')
        UNION ALL
        {_pg_row("NEW", "")} WHERE TG_OP IN ('INSERT', 'UPDATE')
    ) AS d
    GROUP BY d.level, d.month, d.area_code, d.category_code, d.agency_code, d.status
    ORDER BY d.level, d.month, d.area_code, d.category_code, d.agency_code, d.status
    ON CONFLICT ({_KEY}) DO UPDATE
    SET count = s.count + EXCLUDED.count,
        sla_met = s.sla_met + EXCLUDED.sla_met,
        sla_breached = s.sla_breached + EXCLUDED.sla_breached,
        reopened = s.reopened + EXCLUDED.reopened;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _WATCHED)
# Deferred to commit for the reason the map's are: a transaction holds the shared count rows only while it commits.
_PG_TRIGGERS = (
    "CREATE CONSTRAINT TRIGGER report_stats_write AFTER INSERT OR DELETE ON reports "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_stats_sync()",
    f"CREATE CONSTRAINT TRIGGER report_stats_update AFTER UPDATE OF {', '.join(_WATCHED)} ON reports "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION report_stats_sync()",
)


def _sqlite_apply(r: str, sign: int) -> str:
    return (
        f"INSERT INTO report_stats ({_COLUMNS}) "
        f"SELECT {_keys(r, _SQLITE_MONTH)}, {sign}, {sign} * ({_MET.format(r=r)}), "
        f"{sign} * ({_BREACHED.format(r=r)}), {sign} * ({_REOPENED.format(r=r)}) FROM ({_SQLITE_LEVELS}) AS k WHERE 1 "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET count = count + excluded.count, sla_met = sla_met + excluded.sla_met, "
        "sla_breached = sla_breached + excluded.sla_breached, reopened = reopened + excluded.reopened;"
    )


_SQLITE_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _WATCHED)
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER report_stats_insert AFTER INSERT ON reports BEGIN {_sqlite_apply('NEW', 1)} END",
    f"CREATE TRIGGER report_stats_delete AFTER DELETE ON reports BEGIN {_sqlite_apply('OLD', -1)} END",
    f"CREATE TRIGGER report_stats_update AFTER UPDATE OF {', '.join(_WATCHED)} ON reports "
    f"WHEN {_SQLITE_CHANGED} BEGIN {_sqlite_apply('OLD', -1)} {_sqlite_apply('NEW', 1)} END",
)


def _backfill(month: str) -> str:
    r = "r"
    return (
        f"INSERT INTO report_stats ({_COLUMNS}) "
        f"SELECT {_keys(r, month)}, count(*), sum({_MET.format(r=r)}), sum({_BREACHED.format(r=r)}), "
        f"sum({_REOPENED.format(r=r)}) FROM reports AS r CROSS JOIN ({_SQLITE_LEVELS}) AS k GROUP BY 1, 2, 3, 4, 5, 6"
    )


# The open backlog (jaki.stats.backlog) is read from this index alone: the open reports, a few thousand of a
# million. Its predicate is jaki.reports.workflow.OPEN_STATUSES when it was made: a status added to them later
# needs the index rebuilt with it, or the backlog falls back to the status index (right answers, slower).
_OPEN = "status IN ('submitted', 'verified', 'dispatched', 'in_progress')"
_BACKLOG_COLUMNS = ["agency_code", "kelurahan_code", "category_code", "sla_due_at", "created_at"]


def upgrade():
    op.create_table(
        "report_stats",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("area_code", sa.String(length=20), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sla_met", sa.Integer(), nullable=False),
        sa.Column("sla_breached", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "level", "month", "area_code", "category_code", "agency_code", "status", name=op.f("pk_report_stats")
        ),
    )
    with op.batch_alter_table("report_stats", schema=None) as batch_op:
        # An agency admin's questions, and those about one category, read that agency's or category's rows only.
        batch_op.create_index("ix_report_stats_level_agency_month", ["level", "agency_code", "month"], unique=False)
        batch_op.create_index("ix_report_stats_level_category_month", ["level", "category_code", "month"], unique=False)
    op.create_index(
        "ix_reports_open_backlog",
        "reports",
        _BACKLOG_COLUMNS,
        unique=False,
        postgresql_where=sa.text(_OPEN),
        sqlite_where=sa.text(_OPEN),
    )
    op.create_table(
        "report_stats_rollups",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("shape", sa.JSON(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("computed_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("compute_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_report_stats_rollups")),
    )
    with op.batch_alter_table("report_stats_rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_stats_rollups_requested_at"), ["requested_at"], unique=False)
    op.create_table(
        "open_data_files",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("media_type", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("generated_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_open_data_files")),
    )
    with op.batch_alter_table("report_categories") as batch:
        batch.add_column(sa.Column("sensitive", sa.Boolean(), server_default=sa.false(), nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE reports IN SHARE MODE")  # no report changes between the count and the triggers
        op.execute(_PG_FUNCTION)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
        op.execute(_backfill(_PG_MONTH))
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
        op.execute(_backfill(_SQLITE_MONTH))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_stats_update ON reports")
        op.execute("DROP TRIGGER IF EXISTS report_stats_write ON reports")
        op.execute("DROP FUNCTION IF EXISTS report_stats_sync()")
    else:
        for name in ("report_stats_update", "report_stats_delete", "report_stats_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("report_categories") as batch:
        batch.drop_column("sensitive")
    op.drop_table("open_data_files")
    with op.batch_alter_table("report_stats_rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_stats_rollups_requested_at"))
    op.drop_table("report_stats_rollups")
    op.drop_index("ix_reports_open_backlog", table_name="reports")
    with op.batch_alter_table("report_stats", schema=None) as batch_op:
        batch_op.drop_index("ix_report_stats_level_category_month")
        batch_op.drop_index("ix_report_stats_level_agency_month")
    op.drop_table("report_stats")
