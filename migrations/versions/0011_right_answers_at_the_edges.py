"""Edges: neighbours' outlines, who verifies a category, tax payment codes and pay links, the SLA calendar.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01 23:00:00

neighbour_regions holds the outlines of the kota/kabupaten around Jakarta (flask areas import-neighbours), so a
point on their land is refused naming them. report_categories.verified_by says whether a category's reports are
verified by the kelurahan (the default) or by the agency. svc_tax_bills.payment_code and agencies.pay_url tell a
reminder how to pay. svc_calendar_days extends the holidays library's calendar for service-level deadlines.
"""

import sqlalchemy as sa
from alembic import op

import jaki.db

revision = "0011"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "neighbour_regions",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("created_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_neighbour_regions")),
    )
    op.create_table(
        "svc_calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f("ck_svc_calendar_days_kind_known")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_svc_calendar_days_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_svc_calendar_days")),
    )
    with op.batch_alter_table("report_categories") as batch:
        batch.add_column(sa.Column("verified_by", sa.String(length=10), server_default="kelurahan", nullable=False))
        batch.create_check_constraint("verified_by_known", "verified_by IN ('kelurahan', 'agency')")
    with op.batch_alter_table("svc_tax_bills") as batch:
        batch.add_column(sa.Column("payment_code", sa.String(length=40), nullable=True))
    with op.batch_alter_table("agencies") as batch:
        batch.add_column(sa.Column("pay_url", sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table("agencies") as batch:
        batch.drop_column("pay_url")
    with op.batch_alter_table("svc_tax_bills") as batch:
        batch.drop_column("payment_code")
    with op.batch_alter_table("report_categories") as batch:
        batch.drop_constraint("verified_by_known", type_="check")
        batch.drop_column("verified_by")
    op.drop_table("svc_calendar_days")
    op.drop_table("neighbour_regions")
