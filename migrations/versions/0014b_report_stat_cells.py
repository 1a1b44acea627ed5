"""Statistics: report_stat_cells, report counts per WIB month and kelurahan (and category), summed over agencies
and statuses, kept by triggers beside report_stats.

Revision ID: 0014b
Revises: 0013
Create Date: 2026-12-02 11:00:00

report_stats splits every kelurahan's month by category, agency and status, so a year grouped by kelurahan and
category reads some hundred thousand rows at a million reports. The questions that name no agency and no status
need none of that: report_stat_cells holds, per month, kelurahan and category (level 2), and per month and
kelurahan (level 3), the counts already summed, with the status class (open, resolved) as columns. Triggers on
reports keep it exact for every writer as 0014's keep report_stats (deferred to commit on PostgreSQL); existing
reports are counted in the same transaction.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014b"
down_revision = "0013"
branch_labels = None
depends_on = None

_KEY = "level, month, area_code, category_code"
_COLUMNS = f"{_KEY}, count, open, resolved, sla_met, sla_breached, reopened"
# Levels (jaki.stats.aggregates.CELL_LEVELS must match): 2 kelurahan by category, 3 kelurahan alone.
_LEVELS = (2, 3)
_SQLITE_LEVELS = " UNION ALL ".join(f"SELECT {k} AS level" for k in _LEVELS)
# The status classes as jaki.reports.workflow names them when this was made (a test holds them equal): a status
# added to them later needs the triggers remade and `flask stats recount`.
_OPEN = "('submitted', 'verified', 'dispatched', 'in_progress', 'awaiting_validation')"
_RESOLVED = "('resolved', 'closed')"
# What a report row contributes: 0014's definitions (jaki.stats.aggregates.row_measures), one per column.
_MEASURES = (
    "CASE WHEN {r}.status IN " + _OPEN + " THEN 1 ELSE 0 END",
    "CASE WHEN {r}.status IN " + _RESOLVED + " THEN 1 ELSE 0 END",
    "CASE WHEN {r}.resolved_at IS NOT NULL AND {r}.resolved_at <= {r}.sla_due_at THEN 1 ELSE 0 END",
    "CASE WHEN {r}.sla_breached_at IS NOT NULL OR {r}.resolved_at > {r}.sla_due_at THEN 1 ELSE 0 END",
    "CASE WHEN {r}.reopen_count > 0 THEN 1 ELSE 0 END",
)
_MEASURE_NAMES = ("open", "resolved", "sla_met", "sla_breached", "reopened")
# Jakarta has no daylight saving: WIB is UTC+7 all year.
_PG_MONTH = "date_trunc('month', ({r}.created_at AT TIME ZONE 'UTC') + interval '7 hours')::date"
_SQLITE_MONTH = "strftime('%Y-%m-01', {r}.created_at, '+7 hours')"
_CATEGORY = "CASE k.level WHEN 3 THEN '' ELSE {r}.category_code END"
# agency_code is not among them: a cell sums over agencies.
_WATCHED = (
    "created_at",
    "kelurahan_code",
    "category_code",
    "status",
    "resolved_at",
    "sla_due_at",
    "sla_breached_at",
    "reopen_count",
)


def _keys(r: str, month: str) -> str:
    return (
        f"k.level AS level, {month.format(r=r)} AS month, coalesce({r}.kelurahan_code, '') AS area_code, "
        f"{_CATEGORY.format(r=r)} AS category_code"
    )


def _pg_row(r: str, sign: str) -> str:
    measures = ", ".join(f"{sign}({m.format(r=r)}) AS {n}" for m, n in zip(_MEASURES, _MEASURE_NAMES, strict=True))
    return (
        f"SELECT {_keys(r, _PG_MONTH)}, {sign}1 AS n, {measures} "
        f"FROM unnest(ARRAY[{', '.join(map(str, _LEVELS))}]) AS k(level)"
    )


_SUMS = ", ".join(f"sum(d.{n})" for n in _MEASURE_NAMES)
_ADD = ", ".join(f"{c} = s.{c} + EXCLUDED.{c}" for c in ("count", *_MEASURE_NAMES))
# One statement per row change, its deltas summed per key and applied in key order (no deadlock between two
# transactions moving reports between the same cells), as report_stats_sync does.
_PG_FUNCTION = f"""
CREATE FUNCTION report_stat_cells_sync() RETURNS trigger AS $$
BEGIN
    INSERT INTO report_stat_cells AS s ({_COLUMNS})
    SELECT d.level, d.month, d.area_code, d.category_code, sum(d.n), {_SUMS}
    FROM (
        {_pg_row("OLD", "-")} WHERE TG_OP IN ('UPDATE', 'DELETE')
        UNION ALL
        {_pg_row("NEW", "")} WHERE TG_OP IN ('INSERT', 'UPDATE')
    ) AS d
    GROUP BY d.level, d.month, d.area_code, d.category_code
    ORDER BY d.level, d.month, d.area_code, d.category_code
    ON CONFLICT ({_KEY}) DO UPDATE SET {_ADD};
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _WATCHED)
# Deferred to commit for the reason report_stats' are: a transaction holds the shared rows only while it commits.
_PG_TRIGGERS = (
    "CREATE CONSTRAINT TRIGGER report_stat_cells_write AFTER INSERT OR DELETE ON reports "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_stat_cells_sync()",
    f"CREATE CONSTRAINT TRIGGER report_stat_cells_update AFTER UPDATE OF {', '.join(_WATCHED)} ON reports "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION report_stat_cells_sync()",
)


def _sqlite_apply(r: str, sign: int) -> str:
    measures = ", ".join(f"{sign} * ({m.format(r=r)})" for m in _MEASURES)
    add = ", ".join(f"{c} = {c} + excluded.{c}" for c in ("count", *_MEASURE_NAMES))
    return (
        f"INSERT INTO report_stat_cells ({_COLUMNS}) "
        f"SELECT {_keys(r, _SQLITE_MONTH)}, {sign}, {measures} FROM ({_SQLITE_LEVELS}) AS k WHERE 1 "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET {add};"
    )


_SQLITE_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _WATCHED)
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER report_stat_cells_insert AFTER INSERT ON reports BEGIN {_sqlite_apply('NEW', 1)} END",
    f"CREATE TRIGGER report_stat_cells_delete AFTER DELETE ON reports BEGIN {_sqlite_apply('OLD', -1)} END",
    f"CREATE TRIGGER report_stat_cells_update AFTER UPDATE OF {', '.join(_WATCHED)} ON reports "
    f"WHEN {_SQLITE_CHANGED} BEGIN {_sqlite_apply('OLD', -1)} {_sqlite_apply('NEW', 1)} END",
)


def _backfill(month: str) -> str:
    r = "r"
    sums = ", ".join(f"sum({m.format(r=r)})" for m in _MEASURES)
    return (
        f"INSERT INTO report_stat_cells ({_COLUMNS}) "
        f"SELECT {_keys(r, month)}, count(*), {sums} "
        f"FROM reports AS r CROSS JOIN ({_SQLITE_LEVELS}) AS k GROUP BY 1, 2, 3, 4"
    )


def upgrade():
    op.create_table(
        "report_stat_cells",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("area_code", sa.String(length=20), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("sla_met", sa.Integer(), nullable=False),
        sa.Column("sla_breached", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("level", "month", "area_code", "category_code", name=op.f("pk_report_stat_cells")),
    )
    with op.batch_alter_table("report_stat_cells", schema=None) as batch_op:
        # One category's question (sampah in Jakarta Selatan) reads that category's cells only.
        batch_op.create_index(
            "ix_report_stat_cells_level_category_month", ["level", "category_code", "month"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE reports IN SHARE MODE")  # no report changes between the count and the triggers
        op.execute(_PG_FUNCTION)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
        op.execute(_backfill(_PG_MONTH))
        op.execute("ANALYZE report_stat_cells")  # the planner's first questions see the filled table
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
        op.execute(_backfill(_SQLITE_MONTH))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_stat_cells_update ON reports")
        op.execute("DROP TRIGGER IF EXISTS report_stat_cells_write ON reports")
        op.execute("DROP FUNCTION IF EXISTS report_stat_cells_sync()")
    else:
        for name in ("report_stat_cells_update", "report_stat_cells_delete", "report_stat_cells_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("report_stat_cells", schema=None) as batch_op:
        batch_op.drop_index("ix_report_stat_cells_level_category_month")
    op.drop_table("report_stat_cells")
