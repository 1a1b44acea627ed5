"""Reports: proof bound to the task, validation before done, the citizen's word, the right owner (issue 15).

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 03:00:00

Categories say whether a resolution needs validation and how far evidence may be taken from the report. Reports
keep who resolved (four-eyes), the SLA origin and pauses, disputes and the time to owner. Capture tokens bind an
evidence photo to the assignment; the evidence log is append-only and hash-chained (a trigger refuses UPDATE
and DELETE, as report_history's does); photos carry a perceptual hash, banded for lookup. Ratings are per
resolution round. External bodies receive reports through delivery rows. The open backlog index is rebuilt for
the new open status awaiting_validation (the reports table keeps its triggers: columns are added in place).
"""

import sqlalchemy as sa
from alembic import op

import jaki.db

revision = "0015"
down_revision = "0014b"
branch_labels = None
depends_on = None

_OLD_OPEN = "status IN ('submitted', 'verified', 'dispatched', 'in_progress')"
_OPEN = "status IN ('submitted', 'verified', 'dispatched', 'in_progress', 'awaiting_validation')"
_BACKLOG_COLUMNS = ["agency_code", "kelurahan_code", "category_code", "sla_due_at", "created_at"]

_PG_FUNCTION = """
CREATE FUNCTION report_evidence_log_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'report_evidence_log rows are immutable';
END;
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER report_evidence_log_no_change BEFORE UPDATE OR DELETE ON report_evidence_log
FOR EACH ROW EXECUTE FUNCTION report_evidence_log_immutable()
"""
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER report_evidence_log_no_update BEFORE UPDATE ON report_evidence_log "
    "BEGIN SELECT RAISE(ABORT, 'report_evidence_log rows are immutable'); END",
    "CREATE TRIGGER report_evidence_log_no_delete BEFORE DELETE ON report_evidence_log "
    "BEGIN SELECT RAISE(ABORT, 'report_evidence_log rows are immutable'); END",
)

_TS = jaki.db.UTCDateTime(timezone=True)


def _backlog_index(predicate: str) -> None:
    op.drop_index("ix_reports_open_backlog", table_name="reports")
    op.create_index(
        "ix_reports_open_backlog",
        "reports",
        _BACKLOG_COLUMNS,
        unique=False,
        postgresql_where=sa.text(predicate),
        sqlite_where=sa.text(predicate),
    )


def upgrade():
    with op.batch_alter_table("report_categories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("validation_required", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("evidence_radius_m", sa.Integer(), server_default="100", nullable=False))

    # In place (no batch): a rebuilt reports table on SQLite would lose its map and statistics triggers.
    op.add_column("reports", sa.Column("dispute_count", sa.Integer(), server_default="0", nullable=False))
    op.add_column("reports", sa.Column("resolved_by_id", sa.String(length=36), nullable=True))
    op.add_column("reports", sa.Column("work_done_at", _TS, nullable=True))
    op.add_column("reports", sa.Column("validation_rejected_at", _TS, nullable=True))
    op.add_column("reports", sa.Column("sla_started_at", _TS, nullable=True))
    op.add_column("reports", sa.Column("sla_paused_at", _TS, nullable=True))
    op.add_column("reports", sa.Column("time_to_owner_seconds", sa.Integer(), nullable=True))
    op.execute("UPDATE reports SET sla_started_at = created_at")
    _backlog_index(_OPEN)

    with op.batch_alter_table("report_photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phash", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("phase", sa.String(length=10), nullable=True))

    # Ratings per resolution round: the existing ones are round 0's.
    with op.batch_alter_table("report_ratings", schema=None, recreate="always") as batch_op:
        batch_op.add_column(sa.Column("round", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_constraint("pk_report_ratings", type_="primary")
        batch_op.create_primary_key("pk_report_ratings", ["report_id", "round"])

    op.create_table(
        "report_photo_hash_bands",
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["report_photos.id"],
            name=op.f("fk_report_photo_hash_bands_photo_id_report_photos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("photo_id", "band", name=op.f("pk_report_photo_hash_bands")),
    )
    op.create_index(
        "ix_report_photo_hash_bands_lookup",
        "report_photo_hash_bands",
        ["band", "value", "created_at", "phash", "photo_id"],
        unique=False,
    )
    op.create_table(
        "report_capture_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("officer_id", sa.String(length=36), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("work_started_at", _TS, nullable=False),
        sa.Column("issued_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.Column("photo_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_report_capture_tokens_officer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_capture_tokens_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_capture_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_report_capture_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_report_capture_tokens_report_id"), "report_capture_tokens", ["report_id"], unique=False
    )
    op.create_table(
        "report_evidence_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("captured_at", _TS, nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_sha256", sa.String(length=64), nullable=False),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_evidence_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_report_evidence_log_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_report_evidence_log_prev_hash")),
    )
    op.create_index(op.f("ix_report_evidence_log_report_id"), "report_evidence_log", ["report_id"], unique=False)
    op.create_table(
        "report_sla_pauses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_sla_pauses_report_id_reports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_sla_pauses")),
    )
    op.create_index(op.f("ix_report_sla_pauses_report_id"), "report_sla_pauses", ["report_id"], unique=False)
    op.create_table(
        "report_external_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("last_attempt_at", _TS, nullable=True),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("remote_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"], ["agencies.code"], name=op.f("fk_report_external_deliveries_agency_code_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_external_deliveries_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_external_deliveries")),
    )
    op.create_index(
        op.f("ix_report_external_deliveries_report_id"), "report_external_deliveries", ["report_id"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_evidence_log_no_change ON report_evidence_log")
        op.execute("DROP FUNCTION IF EXISTS report_evidence_log_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS report_evidence_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS report_evidence_log_no_delete")
    op.drop_index(op.f("ix_report_external_deliveries_report_id"), table_name="report_external_deliveries")
    op.drop_table("report_external_deliveries")
    op.drop_index(op.f("ix_report_sla_pauses_report_id"), table_name="report_sla_pauses")
    op.drop_table("report_sla_pauses")
    op.drop_index(op.f("ix_report_evidence_log_report_id"), table_name="report_evidence_log")
    op.drop_table("report_evidence_log")
    op.drop_index(op.f("ix_report_capture_tokens_report_id"), table_name="report_capture_tokens")
    op.drop_table("report_capture_tokens")
    op.drop_index("ix_report_photo_hash_bands_lookup", table_name="report_photo_hash_bands")
    op.drop_table("report_photo_hash_bands")
    op.execute("DELETE FROM report_ratings WHERE round > 0")
    with op.batch_alter_table("report_ratings", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("pk_report_ratings", type_="primary")
        batch_op.create_primary_key("pk_report_ratings", ["report_id"])
        batch_op.drop_column("round")
    with op.batch_alter_table("report_photos", schema=None) as batch_op:
        batch_op.drop_column("phase")
        batch_op.drop_column("phash")
    _backlog_index(_OLD_OPEN)
    # SQLite drops columns in place since 3.35: the table and its triggers stay.
    for column in (
        "time_to_owner_seconds",
        "sla_paused_at",
        "sla_started_at",
        "validation_rejected_at",
        "work_done_at",
        "resolved_by_id",
        "dispute_count",
    ):
        op.drop_column("reports", column)
    with op.batch_alter_table("report_categories", schema=None) as batch_op:
        batch_op.drop_column("evidence_radius_m")
        batch_op.drop_column("validation_required")
