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

_KEY = "month, kelurahan_code, category_code, agency_code, status"
_COLUMNS = f"{_KEY}, count, sla_met, sla_breached, reopened"
# What a report row contributes (jaki.stats.aggregates documents the definitions; its recount must match).
_MET = "CASE WHEN {r}.resolved_at IS NOT NULL AND {r}.resolved_at <= {r}.sla_due_at THEN 1 ELSE 0 END"
_BREACHED = "CASE WHEN {r}.sla_breached_at IS NOT NULL OR {r}.resolved_at > {r}.sla_due_at THEN 1 ELSE 0 END"
_REOPENED = "CASE WHEN {r}.reopen_count > 0 THEN 1 ELSE 0 END"
# Jakarta has no daylight saving: WIB is UTC+7 all year.
_PG_MONTH = "date_trunc('month', ({r}.created_at AT TIME ZONE 'UTC') + interval '7 hours')::date"
_SQLITE_MONTH = "strftime('%Y-%m-01', {r}.created_at, '+7 hours')"
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


def _pg_row(r: str, sign: str) -> str:
    return (
        f"SELECT {_PG_MONTH.format(r=r)} AS month, coalesce({r}.kelurahan_code, '') AS kelurahan_code, "
        f"{r}.category_code AS category_code, {r}.agency_code AS agency_code, {r}.status AS status, "
        f"{sign}1 AS n, {sign}({_MET.format(r=r)}) AS met, {sign}({_BREACHED.format(r=r)}) AS breached, "
        f"{sign}({_REOPENED.format(r=r)}) AS reopened"
    )


# One statement per row change, its two deltas summed per key and applied in key order (no deadlock between two
# transactions moving reports between the same rows), as report_map_tiles_sync does.
_PG_FUNCTION = f"""
CREATE FUNCTION report_stats_sync() RETURNS trigger AS $$
BEGIN
    INSERT INTO report_stats AS s ({_COLUMNS})
    SELECT d.month, d.kelurahan_code, d.category_code, d.agency_code, d.status,
           sum(d.n), sum(d.met), sum(d.breached), sum(d.reopened)
    FROM (
        {_pg_row("OLD", "-")} WHERE TG_OP IN ('UPDATE', 'DELETE')
        UNION ALL
        {_pg_row("NEW", "")} WHERE TG_OP IN ('INSERT', 'UPDATE')
    ) AS d
    GROUP BY d.month, d.kelurahan_code, d.category_code, d.agency_code, d.status
    ORDER BY d.month, d.kelurahan_code, d.category_code, d.agency_code, d.status
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
        f"SELECT {_SQLITE_MONTH.format(r=r)}, coalesce({r}.kelurahan_code, ''), {r}.category_code, {r}.agency_code, "
        f"{r}.status, {sign}, {sign} * ({_MET.format(r=r)}), {sign} * ({_BREACHED.format(r=r)}), "
        f"{sign} * ({_REOPENED.format(r=r)}) WHERE 1 "
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
        f"SELECT {month.format(r=r)}, coalesce(r.kelurahan_code, ''), r.category_code, r.agency_code, r.status, "
        f"count(*), sum({_MET.format(r=r)}), sum({_BREACHED.format(r=r)}), sum({_REOPENED.format(r=r)}) "
        f"FROM reports AS r GROUP BY 1, 2, 3, 4, 5"
    )


def upgrade():
    op.create_table(
        "report_stats",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("kelurahan_code", sa.String(length=20), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sla_met", sa.Integer(), nullable=False),
        sa.Column("sla_breached", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "kelurahan_code", "category_code", "agency_code", "status", name=op.f("pk_report_stats")
        ),
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
    op.drop_table("report_stats")
