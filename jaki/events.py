"""Transactional outbox: domain events written in the same transaction as the change they describe."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, utcnow


class OutboxEvent(Base):
    """A committed fact another part of jaki must act on (notifications relay them to people).

    Written with `record_event` inside the business transaction, so an event exists if and only if the
    change does; a relay marks `relayed_at` once it has turned the event into work.
    """

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "relayed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(60), index=True)  # e.g. report.status_changed
    aggregate_type: Mapped[str] = mapped_column(String(40))  # report | permit | bansos | tax_bill ...
    aggregate_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)  # ids and codes only: never NIKs, phones or free text PII
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    relayed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


def record_event(session, type: str, aggregate_type: str, aggregate_id, payload: dict | None = None) -> OutboxEvent:
    # The push side starts here, invisibly: jaki/notifications/hooks.py listens on every Session and, once this
    # transaction commits, kicks the relay (tasks.relay_outbox) that turns the event into notification rows.
    event = OutboxEvent(type=type, aggregate_type=aggregate_type, aggregate_id=str(aggregate_id), payload=payload or {})
    session.add(event)
    return event
