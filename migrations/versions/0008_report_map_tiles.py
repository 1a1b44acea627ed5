"""Reports: per-tile counts for the map, kept by triggers, so a dense viewport is answered with clusters.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:10:00

The benchmark found the default map viewport growing 5x from 10k to 1M reports: its answer grew with the
density. Above the pin limit the map now answers with clusters counted from this table, which triggers on
reports keep exact for every writer (ORM, bulk SQL, COPY; on PostgreSQL they run at commit). Levels 4, 6 and 8 (tiles of 16, 64 and 256 cells a
side) must match jaki.reports.map.LEVELS. Existing reports are counted in the same transaction.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LEVELS = (4, 6, 8)
_COLUMNS = "level, tile, category_code, status, count, sum_latitude, sum_longitude"
_SQLITE_LEVELS = " UNION ALL ".join(f"SELECT {k} AS level" for k in LEVELS)

# PostgreSQL: one statement per row change, its deltas summed per key and applied in key order, so two
# transactions moving reports between the same tiles lock the rows in the same order (no deadlock).
_PG_FUNCTION = f"""
CREATE FUNCTION report_map_tiles_sync() RETURNS trigger AS $$
BEGIN
    INSERT INTO report_map_tiles AS t ({_COLUMNS})
    SELECT d.level, d.tile, d.category_code, d.status, sum(d.n), sum(d.lat), sum(d.lon)
    FROM (
        SELECT k AS level, OLD.cell >> (2 * k) AS tile, OLD.category_code AS category_code, OLD.status AS status,
               -1 AS n, -OLD.latitude AS lat, -OLD.longitude AS lon
        FROM unnest(ARRAY[{", ".join(map(str, LEVELS))}]) AS k WHERE TG_OP IN ('UPDATE', 'DELETE')
        UNION ALL
        SELECT k, NEW.cell >> (2 * k), NEW.category_code, NEW.status, 1, NEW.latitude, NEW.longitude
        FROM unnest(ARRAY[{", ".join(map(str, LEVELS))}]) AS k WHERE TG_OP IN ('INSERT', 'UPDATE')
    ) AS d
    GROUP BY d.level, d.tile, d.category_code, d.status
    ORDER BY d.level, d.tile, d.category_code, d.status
    ON CONFLICT (level, tile, category_code, status) DO UPDATE
    SET count = t.count + EXCLUDED.count,
        sum_latitude = t.sum_latitude + EXCLUDED.sum_latitude,
        sum_longitude = t.sum_longitude + EXCLUDED.sum_longitude;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
_WATCHED = ("cell", "latitude", "longitude", "category_code", "status")
_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _WATCHED)
# Deferred to commit: a transaction that files a report and then uploads its photos must not hold the tile rows
# (shared by every report of the category in a 9 km tile) while it waits on object storage; it locks them only
# for its commit. (SQLite has one writer at a time anyway.)
_PG_TRIGGERS = (
    "CREATE CONSTRAINT TRIGGER report_map_tiles_write AFTER INSERT OR DELETE ON reports "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_map_tiles_sync()",
    f"CREATE CONSTRAINT TRIGGER report_map_tiles_update AFTER UPDATE OF {', '.join(_WATCHED)} ON reports "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION report_map_tiles_sync()",
)


def _sqlite_apply(row: str, sign: int) -> str:
    return (
        f"INSERT INTO report_map_tiles ({_COLUMNS}) "
        f"SELECT k.level, {row}.cell >> (2 * k.level), {row}.category_code, {row}.status, {sign}, "
        f"{sign} * {row}.latitude, {sign} * {row}.longitude FROM ({_SQLITE_LEVELS}) AS k WHERE 1 "
        "ON CONFLICT (level, tile, category_code, status) DO UPDATE SET count = count + excluded.count, "
        "sum_latitude = sum_latitude + excluded.sum_latitude, sum_longitude = sum_longitude + excluded.sum_longitude;"
    )


_SQLITE_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _WATCHED)
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER report_map_tiles_insert AFTER INSERT ON reports BEGIN {_sqlite_apply('NEW', 1)} END",
    f"CREATE TRIGGER report_map_tiles_delete AFTER DELETE ON reports BEGIN {_sqlite_apply('OLD', -1)} END",
    f"CREATE TRIGGER report_map_tiles_update AFTER UPDATE OF {', '.join(_WATCHED)} ON reports "
    f"WHEN {_SQLITE_CHANGED} BEGIN {_sqlite_apply('OLD', -1)} {_sqlite_apply('NEW', 1)} END",
)
_BACKFILL = (
    f"INSERT INTO report_map_tiles ({_COLUMNS}) "
    "SELECT k.level, r.cell >> (2 * k.level), r.category_code, r.status, count(*), sum(r.latitude), "
    f"sum(r.longitude) FROM reports AS r CROSS JOIN ({_SQLITE_LEVELS}) AS k "
    "GROUP BY k.level, r.cell >> (2 * k.level), r.category_code, r.status"
)


def upgrade():
    op.create_table('report_map_tiles',
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('tile', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('sum_latitude', sa.Float(), nullable=False),
    sa.Column('sum_longitude', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('level', 'tile', 'category_code', 'status', name=op.f('pk_report_map_tiles'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE reports IN SHARE MODE")  # no report changes between the count and the triggers
        op.execute(_PG_FUNCTION)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    op.execute(_BACKFILL)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_map_tiles_update ON reports")
        op.execute("DROP TRIGGER IF EXISTS report_map_tiles_write ON reports")
        op.execute("DROP FUNCTION IF EXISTS report_map_tiles_sync()")
    else:
        for name in ("report_map_tiles_update", "report_map_tiles_delete", "report_map_tiles_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('report_map_tiles')
