"""Areas: a simplified outline per kelurahan, kecamatan and kota for the public map layer.

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-01 10:00:00

Kecamatan and kota outlines are dissolved from the kelurahan polygons by `flask areas import`
(jaki.geo.outlines); the column stays empty until then, and GET /areas.geojson fills it once if it is.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outline", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_column("outline")
