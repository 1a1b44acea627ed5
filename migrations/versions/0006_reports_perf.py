"""Reports: the cell index covers the map and nearby candidates' columns (index-only scans at a million reports).

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-23 14:00:00

The benchmark (bench/scenario_reports.py) found nearby and viewport latency growing with the table: a dense
area's thousands of candidates were each read from their own table page. The wider index keeps its name,
which the naming convention derives from its first column. Dropped and created in one transaction: no
query runs without it; writes to reports wait while it builds (about 3 s at a million rows on PostgreSQL).
"""

from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None

COVERING = ["cell", "latitude", "longitude", "status", "category_code", "created_at", "id"]


def upgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_cell"))
        batch_op.create_index("ix_reports_cell", COVERING, unique=False)


def downgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_cell")
        batch_op.create_index(batch_op.f("ix_reports_cell"), ["cell"], unique=False)
