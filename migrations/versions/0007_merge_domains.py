"""Merge the domain branches (services, notifications, Open311, reports performance) into one head.

Revision ID: 0007
Revises: 0003, 0004, 0005, 0006
Create Date: 2026-11-23
"""

revision = "0007"
down_revision = ("0003", "0004", "0005", "0006")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
