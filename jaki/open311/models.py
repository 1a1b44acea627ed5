"""Open311 clients' API keys (hashed) and the submissions they made (tokens, contact data sealed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, new_uuid, utcnow


class ApiKey(Base):
    """A key issued to one Open311 client (an app or an aggregator); only its SHA-256 is stored."""

    __tablename__ = "open311_api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(100))
    # The key is 256 random bits: a plain SHA-256 cannot be reversed and lets us look it up by index.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))  # shown to admins to tell keys apart; not enough to use
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Submission(Base):
    """One POST requests: the report it became, its token, and what the client sent that reports do not hold.

    The submitter's contact data (email, phone, names, account and device ids) is personal data: sealed with the
    field cipher, never public, never logged; staff read it through an audited endpoint.
    media_url is stored as given and never fetched (SSRF).
    """

    __tablename__ = "open311_submissions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # Null only between the report's commit and the link's (the token then answers without an id yet).
    report_id: Mapped[str | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), unique=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("open311_api_keys.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(40))
    address_id: Mapped[str | None] = mapped_column(String(100))
    media_url: Mapped[str | None] = mapped_column(String(500))
    attributes: Mapped[dict | None] = mapped_column(JSON)
    contact_sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
