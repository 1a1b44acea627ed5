"""Personal data rights (UU PDP): access log, correction requests and trail, consent choices, deletion receipts,
breach reports.

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-02 02:48:35.119723
"""

import sqlalchemy as sa
from alembic import op

import jaki.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pdp_breach_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=False),
        sa.Column("created_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detected_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notify_by", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("affected_count", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("notices_sent_at", jaki.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdp_breach_reports")),
        sa.UniqueConstraint("reference", name=op.f("uq_pdp_breach_reports_reference")),
    )
    op.create_table(
        "pdp_deletion_receipts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=False),
        sa.Column("pseudonym", sa.String(length=36), nullable=False),
        sa.Column("requested_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", jaki.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdp_deletion_receipts")),
        sa.UniqueConstraint("reference", name=op.f("uq_pdp_deletion_receipts_reference")),
    )
    with op.batch_alter_table("pdp_deletion_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pdp_deletion_receipts_pseudonym"), ["pseudonym"], unique=False)

    op.create_table(
        "pdp_consent_choices",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("changed_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("effective_by", jaki.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("applied_at", jaki.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pdp_consent_choices_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "purpose", name=op.f("pk_pdp_consent_choices")),
    )
    op.create_table(
        "pdp_correction_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=24), nullable=False),
        sa.Column("domain", sa.String(length=20), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("requested_value", sa.String(length=300), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ack_due_at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", jaki.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", jaki.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", jaki.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_code"], ["agencies.code"], name=op.f("fk_pdp_correction_requests_agency_code_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pdp_correction_requests_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdp_correction_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_pdp_correction_requests_reference")),
    )
    with op.batch_alter_table("pdp_correction_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pdp_correction_requests_ack_due_at"), ["ack_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pdp_correction_requests_agency_code"), ["agency_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_pdp_correction_requests_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_pdp_correction_requests_user_id"), ["user_id"], unique=False)

    op.create_table(
        "pdp_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("subject_index", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("actor_unit", sa.String(length=200), nullable=True),
        sa.Column("agency_code", sa.String(length=20), nullable=True),
        sa.Column("system", sa.String(length=40), nullable=False),
        sa.Column("fields", sa.String(length=300), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("lawful_basis", sa.String(length=30), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.Column("break_glass", sa.Boolean(), nullable=False),
        sa.Column("break_glass_code", sa.String(length=30), nullable=True),
        sa.Column("review_status", sa.String(length=20), nullable=True),
        sa.Column("reviewed_by_id", sa.String(length=36), nullable=True),
        sa.Column("reviewed_at", jaki.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("delayed_until", jaki.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delay_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_pdp_access_log_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_log.id"], name=op.f("fk_pdp_access_log_audit_id_audit_log"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["users.id"], name=op.f("fk_pdp_access_log_reviewed_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdp_access_log")),
    )
    with op.batch_alter_table("pdp_access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pdp_access_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pdp_access_log_review_status"), ["review_status"], unique=False)
        batch_op.create_index("ix_pdp_access_log_subject_id", ["subject_index", "id"], unique=False)

    op.create_table(
        "pdp_correction_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("at", jaki.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_pdp_correction_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["pdp_correction_requests.id"],
            name=op.f("fk_pdp_correction_events_request_id_pdp_correction_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdp_correction_events")),
    )
    with op.batch_alter_table("pdp_correction_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pdp_correction_events_request_id"), ["request_id"], unique=False)


def downgrade():
    with op.batch_alter_table("pdp_correction_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pdp_correction_events_request_id"))

    op.drop_table("pdp_correction_events")
    with op.batch_alter_table("pdp_access_log", schema=None) as batch_op:
        batch_op.drop_index("ix_pdp_access_log_subject_id")
        batch_op.drop_index(batch_op.f("ix_pdp_access_log_review_status"))
        batch_op.drop_index(batch_op.f("ix_pdp_access_log_at"))

    op.drop_table("pdp_access_log")
    with op.batch_alter_table("pdp_correction_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pdp_correction_requests_user_id"))
        batch_op.drop_index(batch_op.f("ix_pdp_correction_requests_status"))
        batch_op.drop_index(batch_op.f("ix_pdp_correction_requests_agency_code"))
        batch_op.drop_index(batch_op.f("ix_pdp_correction_requests_ack_due_at"))

    op.drop_table("pdp_correction_requests")
    op.drop_table("pdp_consent_choices")
    with op.batch_alter_table("pdp_deletion_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pdp_deletion_receipts_pseudonym"))

    op.drop_table("pdp_deletion_receipts")
    op.drop_table("pdp_breach_reports")
