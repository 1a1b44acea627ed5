"""Declarative base, naming convention, column helpers and the unbound `db` (bound by create_app) of every model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; jaki stores UTC-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION), type_annotation_map={datetime: UTCDateTime()}
    )


# Created here, beside Base, so that every layer (the API's pagination included) can reach the session without
# importing jaki.extensions, which sits above jaki.api; jaki.extensions re-exports it as the usual name.
db = SQLAlchemy(model_class=Base)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def dialect_insert(table):
    """INSERT for the session's database with its ON CONFLICT clauses (on_conflict_do_nothing / _do_update):
    PostgreSQL's and SQLite's constructs spell them alike."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds, for a write answered from the rows it has just written: every
    column is set in Python (no database default or trigger writes one), so reading them back would give the values
    the session already has. Collections the answer shows must be set too (set_committed_value), or they load."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def one_of(column, values):
    """`column IN (values)` for a batch's hundreds of values. On PostgreSQL it is `column = ANY(:array)`: one
    parameter, so the statement's text is the same for every batch. An expanded IN has a placeholder per value, and
    psycopg parses the statement again whenever the count differs (2.5% of a push worker's CPU, py-spy --gil)."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)
