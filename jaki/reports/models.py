"""Citizen reports: categories, reports, photos, immutable history, comments, support (+1), ratings, quotas."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jaki.db import Base, TimestampMixin, new_uuid, utcnow

if TYPE_CHECKING:
    from jaki.auth.models import User


class Category(TimestampMixin, Base):
    """What a citizen reports about; names the responsible agency, the SLA and the duplicate radius."""

    __tablename__ = "report_categories"
    __table_args__ = (
        CheckConstraint("sla_hours > 0", name="sla_hours_positive"),
        CheckConstraint("duplicate_radius_m >= 0 AND duplicate_radius_m <= 1000", name="duplicate_radius_range"),
        CheckConstraint("verified_by IN ('kelurahan', 'agency')", name="verified_by_known"),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. jalan_rusak
    name: Mapped[str] = mapped_column(String(120))  # Indonesian, as citizens read it
    name_en: Mapped[str] = mapped_column(String(120))
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    sla_hours: Mapped[int] = mapped_column(Integer)
    duplicate_radius_m: Mapped[int] = mapped_column(Integer, default=50)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    # Who verifies a new report: the kelurahan unit of its kelurahan (Jakarta's rule), or, where the city
    # decided so for the category, the responsible agency itself.
    verified_by: Mapped[str] = mapped_column(String(10), default="kelurahan", server_default="kelurahan")
    # Open data publishes a sensitive category's counts per kecamatan only (jaki.opendata): small-area counts of
    # some problems point at people. Admins set it (PATCH /report-categories/{code}).
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Jakarta's CRM puts every follow-up through Menunggu Validasi before Selesai; a category may skip it.
    validation_required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # How far from the report an evidence photo's GPS fix may be (plus the fix's own accuracy).
    evidence_radius_m: Mapped[int] = mapped_column(Integer, default=100, server_default="100")


# workflow.OPEN_STATUSES as migration 0015 wrote them into the backlog index (a new open status: rebuild it).
OPEN_PREDICATE = "status IN ('submitted', 'verified', 'dispatched', 'in_progress', 'awaiting_validation')"


class Report(TimestampMixin, Base):
    __tablename__ = "reports"
    __table_args__ = (
        # A retried upload (same reporter, same Idempotency-Key) finds the first report instead of making another.
        UniqueConstraint("reporter_id", "idempotency_key", name="uq_reports_reporter_idempotency_key"),
        # Feed keyset order; duplicate search (category + Morton cell ranges); officers' queue by urgency.
        Index("ix_reports_created_at_id", "created_at", "id"),
        Index("ix_reports_category_code_cell", "category_code", "cell"),
        Index("ix_reports_status_sla_due_at", "status", "sla_due_at"),
        # Map and nearby: Morton cell ranges, covering what filtering and ordering the candidates reads, so a
        # dense area's thousands of candidates are sifted in the index and only the rows shown are fetched.
        Index("ix_reports_cell", "cell", "latitude", "longitude", "status", "category_code", "created_at", "id"),
        # The open backlog (jaki.stats.backlog), read from the index alone: the open reports only (migration 0014).
        Index(
            "ix_reports_open_backlog",
            "agency_code",
            "kelurahan_code",
            "category_code",
            "sla_due_at",
            "created_at",
            postgresql_where=text(OPEN_PREDICATE),
            sqlite_where=text(OPEN_PREDICATE),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # Null for reports from channels without a jaki account (Open311 clients).
    reporter_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    source: Mapped[str] = mapped_column(String(20), default="app")
    category_code: Mapped[str] = mapped_column(ForeignKey("report_categories.code"))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    cell: Mapped[int] = mapped_column(Integer)  # jaki.geo.cells.cell_of(latitude, longitude)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)  # hidden from the public, not from staff
    status: Mapped[str] = mapped_column(String(20), default="submitted")

    # Routing: null kelurahan means outside every area (the admins' unrouted triage queue).
    kelurahan_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    kecamatan_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    kota_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    routing_distance_m: Mapped[float | None] = mapped_column(Float)  # > 0: in a gap, nearest kelurahan taken
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    assigned_officer_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime | None]

    # Optimistic locking: every ORM UPDATE is "... WHERE version = <the version read>" (ETag / If-Match).
    version: Mapped[int] = mapped_column(Integer)

    sla_due_at: Mapped[datetime]
    sla_breached_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    duplicate_of_id: Mapped[str | None] = mapped_column(ForeignKey("reports.id"), index=True)
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    # Each reopening (the reporter's dispute) starts a new resolution round: new evidence, a new rating.
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    dispute_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # Four-eyes: who said the work was done (and when); the validator must be someone else.
    resolved_by_id: Mapped[str | None] = mapped_column(String(36))  # a user id (no key: an officer may go)
    work_done_at: Mapped[datetime | None]
    # The last validation of this round was a rejection (staff read it as TL Ditolak); cleared when done again.
    validation_rejected_at: Mapped[datetime | None]
    # Where the SLA clock started: receipt (created_at), kept through transfers and category corrections,
    # restarted by a dispute. sla_due_at = sla_started_at + the category's SLA + the pauses since.
    sla_started_at: Mapped[datetime | None]
    sla_paused_at: Mapped[datetime | None]  # open pause (report_sla_pauses holds the reason)
    # Receipt -> dispatch to the unit that resolved it (set when the work is done; statistics read it).
    time_to_owner_seconds: Mapped[int | None] = mapped_column(Integer)

    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))

    category: Mapped[Category] = relationship(lazy="joined", innerjoin=True)
    # Public payloads show the reporter's first name: lists load reporters in one query (selectinload).
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id], viewonly=True)
    photos: Mapped[list[ReportPhoto]] = relationship(
        lazy="selectin",
        order_by="ReportPhoto.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
        back_populates="report",
    )

    # Every report shows its SLA pauses: loaded per page of reports in one query, like the photos.
    sla_pauses: Mapped[list[SlaPause]] = relationship(
        lazy="selectin", order_by="SlaPause.id", cascade="all, delete-orphan", passive_deletes=True, viewonly=False
    )

    # The reporter's ratings, one per resolution round: the report's answers show them all and the current one.
    ratings: Mapped[list[ReportRating]] = relationship(viewonly=True, order_by="ReportRating.round")

    __mapper_args__ = {"version_id_col": version}

    @property
    def reference(self) -> str:
        """A short reference people can read out (display only; the id is the key)."""
        return "LAP-" + self.id[:8].upper()

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.status}>"


class ReportPhoto(Base):
    """A sanitised photo (no EXIF) in object storage: the reporter's, or an officer's evidence of the work."""

    __tablename__ = "report_photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="report")  # report | evidence
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Evidence counts for the round it was uploaded in: a reopened report needs new evidence.
    round: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(300))
    thumbnail_key: Mapped[str | None] = mapped_column(String(300))  # set by the MEDIA job
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # 64-bit difference hash (16 hex digits) of the picture: a re-uploaded photo is found by it (jaki.media.phash).
    phash: Mapped[str | None] = mapped_column(String(16))
    # Evidence: before or after the work (kept as a pair per round); a citizen's dispute photo: dispute.
    phase: Mapped[str | None] = mapped_column(String(10))
    uploaded_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[Report] = relationship(back_populates="photos")


class PhotoHashBand(Base):
    """One 8-bit band of an evidence photo's perceptual hash. Two hashes within Hamming distance 7 share at least
    one of their 8 bands exactly (pigeonhole), so "a similar photo in the last 90 days" is an index range per band;
    the index carries the whole hash, so the candidates are compared without reading a photo row."""

    __tablename__ = "report_photo_hash_bands"
    __table_args__ = (Index("ix_report_photo_hash_bands_lookup", "band", "value", "created_at", "phash", "photo_id"),)

    photo_id: Mapped[str] = mapped_column(ForeignKey("report_photos.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    phash: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaptureToken(Base):
    """A single-use permission to upload one evidence photo for one assignment, minted when work starts.

    Only the SHA-256 of the token is stored; using it is one conditional UPDATE (used_at IS NULL), so two
    processes racing with the same token cannot both win."""

    __tablename__ = "report_capture_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    round: Mapped[int] = mapped_column(Integer)
    work_started_at: Mapped[datetime]  # the claim: a photo taken before it cannot show this work
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    photo_id: Mapped[str | None] = mapped_column(String(36))


class EvidenceLogEntry(Base):
    """Append-only, hash-chained record of every evidence photo (never updated or deleted: ORM guard and DB
    trigger). hash = SHA-256 over prev_hash and the row's content; `flask reports verify-evidence` walks it.
    No foreign keys: the log outlives the photos it describes."""

    __tablename__ = "report_evidence_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[str] = mapped_column(String(36), index=True)
    photo_id: Mapped[str] = mapped_column(String(36))
    round: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime]
    captured_at: Mapped[datetime]
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    distance_m: Mapped[float] = mapped_column(Float)
    sha256: Mapped[str] = mapped_column(String(64))  # of the original upload, before stripping
    stored_sha256: Mapped[str] = mapped_column(String(64))  # of the stripped copy the public sees
    phash: Mapped[str] = mapped_column(String(16))
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # one successor per row: no fork
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class SlaPause(Base):
    """A stretch when the report's SLA clock stood still, and why (e.g. with a body outside the Pemprov)."""

    __tablename__ = "report_sla_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(40))  # a code: external_agency


class ExternalDelivery(TimestampMixin, Base):
    """A report handed to a body outside the Pemprov (agency kind external): delivery state on the row, as
    FixMyStreet keeps send_state; the rq job takes the id, sends once per attempt and records the outcome."""

    __tablename__ = "report_external_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    channel: Mapped[str] = mapped_column(String(20))  # webhook | open311
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    last_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(String(100))  # the body's own reference, from its answer


class ReportHistory(Base):
    """One row per transition, transfer, assignment or merge. Never updated (ORM guard and DB trigger)."""

    __tablename__ = "report_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # null: the system
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))  # create, transition, claim, transfer, duplicate, escalate
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)  # codes and ids only


class ReportComment(Base):
    """A public comment, or an officer's internal note (internal=True: never shown to the public)."""

    __tablename__ = "report_comments"
    __table_args__ = (Index("ix_report_comments_report_id_id", "report_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    author_role: Mapped[str] = mapped_column(String(20))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportSupport(Base):
    """A citizen's +1: they have the same problem and hear about its progress."""

    __tablename__ = "report_supports"

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportRating(Base):
    """The reporter's rating of the outcome (1-5), once per resolution round: a reopened and properly fixed
    report is rated again, and the bad first fix keeps its own rating."""

    __tablename__ = "report_ratings"
    __table_args__ = (CheckConstraint("score >= 1 AND score <= 5", name="score_range"),)

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportQuota(Base):
    """Reports a user filed per Jakarta day: the daily cap, incremented by a conditional UPDATE."""

    __tablename__ = "report_quotas"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReportMapTile(Base):
    """How many reports of a category and status lie in a map tile, and the sums their centroid comes from.

    Kept by database triggers on reports (insert, delete, and updates of position, category or status), so
    every path that writes reports, the ORM, bulk SQL and COPY alike, keeps it exact (on PostgreSQL they are
    deferred to commit, so a transaction holds the shared count rows only while it commits); `flask reports
    recount-map` rebuilds it. A tile at level k is a Morton cell number shifted right by 2k bits: a square of
    2^k by 2^k cells (jaki.reports.map.LEVELS). Dense viewports are answered from here, in time that depends on
    the tiles in view, not on how many reports they hold.
    """

    __tablename__ = "report_map_tiles"

    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    tile: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    sum_latitude: Mapped[float] = mapped_column(Float, default=0.0)
    sum_longitude: Mapped[float] = mapped_column(Float, default=0.0)


class HistoryImmutable(RuntimeError):
    pass


@event.listens_for(ReportHistory, "before_update")
def _history_is_immutable(_mapper, _connection, target) -> None:
    raise HistoryImmutable(f"report history row {target.id} is immutable")


@event.listens_for(EvidenceLogEntry, "before_update")
@event.listens_for(EvidenceLogEntry, "before_delete")
def _evidence_is_immutable(_mapper, _connection, target) -> None:
    raise HistoryImmutable(f"evidence log row {target.id} is immutable")
