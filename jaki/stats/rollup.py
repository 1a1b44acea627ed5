"""Medians, p90 and rating averages per question shape: computed from the reports, kept, refreshed periodically.

A median cannot be added up from per-month counts the way the counts can, and at a million reports a year computing
one takes a scan of the year's reports (about half a second on PostgreSQL). So each shape (grouping and filters) is
computed when first asked for and stored (report_stats_rollups) with the time it was computed; answers carry that
time as `medians_as_of`. The periodic task refresh_rollups recomputes those older than STATS_ROLLUP_REFRESH_SECONDS
and drops those nobody asked for in STATS_ROLLUP_KEEP_DAYS; a request finding its shape older than
STATS_ROLLUP_MAX_AGE_SECONDS (no worker runs on the embedded default) recomputes it itself.

Durations are measured from filing (created_at) to verified_at, dispatched_at and resolved_at as the report holds them
now; percentiles interpolate between neighbouring values (PostgreSQL's percentile_cont), in Python on SQLite.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta

from sqlalchemy import delete, func, literal, select, tuple_, update
from sqlalchemy.orm import aliased

from jaki.db import dialect_insert, utcnow
from jaki.extensions import db
from jaki.reports.models import Report, ReportRating
from jaki.settings import setting
from jaki.stats.aggregates import month_of_created
from jaki.stats.models import StatsRollup
from jaki.stats.query import (
    KEY_SEPARATOR,
    Question,
    area_filter,
    group_expression,
    key_value,
    month_start_utc,
    parse_month,
)

log = logging.getLogger(__name__)

MEASURES = (
    "median_hours_to_verify",
    "median_hours_to_dispatch",
    "median_hours_to_resolve",
    "p90_hours_to_resolve",
    "rating_avg",
)
TOTAL = ""  # the key of the whole question's row
_TOUCH_EVERY = timedelta(minutes=10)  # requested_at is rewritten at most this often (reads must not all write)


def shape_key(shape: dict) -> str:
    return hashlib.sha256(json.dumps(shape, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def question_of(shape: dict) -> Question:
    return Question(
        group_by=tuple(shape["group_by"]),
        since=parse_month(shape["since"], "since"),
        until=parse_month(shape["until"], "until"),
        category=shape.get("category"),
        agency=shape.get("agency"),
        area=shape.get("area"),
    )


def percentile(ordered: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont) of sorted values."""
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _rounded(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _groups(question: Question, dialect: str) -> list:
    r = Report
    kelurahan = func.coalesce(r.kelurahan_code, literal(""))
    month = month_of_created(dialect)
    return [
        group_expression(
            g, kelurahan=kelurahan, category=r.category_code, agency=r.agency_code, status=r.status, month=month
        )
        for g in question.group_by
    ]


def _where(query, question: Question):
    r = Report
    query = query.where(r.created_at >= month_start_utc(question.since), r.created_at < month_start_utc(question.end))
    if question.category:
        query = query.where(r.category_code == question.category)
    if question.agency:
        query = query.where(r.agency_code == question.agency)
    if question.area:
        query = query.where(area_filter(r.kelurahan_code, question.area))
    # Ratings are per resolution round (issue 15): each report counts once, with its latest rating (the primary
    # key (report_id, round) answers the max).
    rounds = aliased(ReportRating)
    latest = select(func.max(rounds.round)).where(rounds.report_id == r.id).correlate(r).scalar_subquery()
    return query.select_from(r).outerjoin(
        ReportRating, (ReportRating.report_id == r.id) & (ReportRating.round == latest)
    )


def _key(question: Question, values) -> str:
    return KEY_SEPARATOR.join(key_value(g, v) for g, v in zip(question.group_by, values, strict=True))


def _compute_postgresql(question: Question) -> dict[str, dict]:
    r = Report

    def hours(column):
        return func.extract("epoch", column - r.created_at) / 3600.0

    def pct(p, column):
        return func.percentile_cont(p).within_group(hours(column))

    groups = _groups(question, "postgresql")
    measures = (
        pct(0.5, r.verified_at),
        pct(0.5, r.dispatched_at),
        pct(0.5, r.resolved_at),
        pct(0.9, r.resolved_at),
        func.avg(ReportRating.score),
    )
    query = _where(select(*groups, *measures), question)
    if groups:
        # One scan for the groups and the total: GROUPING SETS ((the groups), ()).
        query = query.group_by(func.grouping_sets(tuple_(*groups), tuple_()))
    out = {}
    for row in db.session.execute(query):
        values = list(row)
        head, tail = values[: len(groups)], values[len(groups) :]
        key = TOTAL if groups and all(v is None for v in head) else _key(question, head)
        out[key] = dict(zip(MEASURES, (_rounded(v) for v in tail), strict=True))
    out.setdefault(TOTAL, dict.fromkeys(MEASURES))
    return out


def _compute_python(question: Question) -> dict[str, dict]:
    """The same figures on SQLite (no percentile function): the embedded default holds a city's office, not its
    million reports, so reading the durations is cheap there."""
    r = Report
    groups = _groups(question, db.session.get_bind().dialect.name)
    query = _where(
        select(*groups, r.created_at, r.verified_at, r.dispatched_at, r.resolved_at, ReportRating.score), question
    )
    collected: dict[str, list[list]] = {}
    for row in db.session.execute(query):
        values = list(row)
        created, verified, dispatched, resolved, score = values[len(groups) :]
        sample = [
            (verified - created).total_seconds() / 3600 if verified else None,
            (dispatched - created).total_seconds() / 3600 if dispatched else None,
            (resolved - created).total_seconds() / 3600 if resolved else None,
            score,
        ]
        keys = [TOTAL] + ([_key(question, values[: len(groups)])] if groups else [])
        for key in keys:
            lists = collected.setdefault(key, [[], [], [], []])
            for i, value in enumerate(sample):
                if value is not None:
                    lists[i].append(value)
    out = {}
    for key, (verify, dispatch, resolve, scores) in collected.items():
        verify.sort()
        dispatch.sort()
        resolve.sort()
        figures = (
            percentile(verify, 0.5),
            percentile(dispatch, 0.5),
            percentile(resolve, 0.5),
            percentile(resolve, 0.9),
            sum(scores) / len(scores) if scores else None,
        )
        out[key] = dict(zip(MEASURES, (_rounded(v) for v in figures), strict=True))
    out.setdefault(TOTAL, dict.fromkeys(MEASURES))
    return out


def compute(question: Question) -> dict[str, dict]:
    """Group key -> medians, p90 and rating average, straight from the reports (TOTAL: the whole question)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _compute_postgresql(question)
    return _compute_python(question)


def _store(key: str, shape: dict, rows: dict, now: datetime, compute_ms: int) -> None:
    values = {
        "key": key,
        "shape": shape,
        "rows": rows,
        "computed_at": now,
        "requested_at": now,
        "compute_ms": compute_ms,
    }
    statement = dialect_insert(StatsRollup).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[StatsRollup.key],
        set_={"rows": statement.excluded.rows, "computed_at": now, "requested_at": now, "compute_ms": compute_ms},
    )
    db.session.execute(statement)
    db.session.commit()


def _timed(question: Question) -> tuple[dict, int]:
    started = time.perf_counter()
    rows = compute(question)
    return rows, round((time.perf_counter() - started) * 1000)


# Rollups as this process last read them, by shape and computation time: a kelurahan x category rollup is half a
# megabyte of JSON, read again only when it was recomputed (the time is read with every answer).
_READ: OrderedDict[str, tuple[datetime, dict]] = OrderedDict()
_READ_LIMIT = 64
_READ_LOCK = threading.Lock()


def _read_rows(key: str, computed_at: datetime) -> dict:
    with _READ_LOCK:
        held = _READ.get(key)
        if held is not None and held[0] == computed_at:
            _READ.move_to_end(key)
            return held[1]
    rows = db.session.scalar(select(StatsRollup.rows).where(StatsRollup.key == key)) or {}
    with _READ_LOCK:
        _READ[key] = (computed_at, rows)
        while len(_READ) > _READ_LIMIT:
            _READ.popitem(last=False)
    return rows


def medians(question: Question) -> tuple[dict[str, dict], datetime]:
    """The question's medians from its rollup (computed now if missing or too old) and when they were computed."""
    shape = question.shape()
    key = shape_key(shape)
    now = utcnow()
    stamp = db.session.execute(
        select(StatsRollup.computed_at, StatsRollup.requested_at).where(StatsRollup.key == key)
    ).one_or_none()
    if stamp is not None and now - stamp[0] <= timedelta(seconds=int(setting("STATS_ROLLUP_MAX_AGE_SECONDS"))):
        computed_at, requested_at = stamp
        rows = _read_rows(key, computed_at)
        if now - requested_at > _TOUCH_EVERY:
            db.session.execute(update(StatsRollup).where(StatsRollup.key == key).values(requested_at=now))
            db.session.commit()
        return rows, computed_at
    rows, compute_ms = _timed(question)
    _store(key, shape, rows, now, compute_ms)
    if compute_ms > 1000:
        log.info("stats rollup computed on request", extra={"compute_ms": compute_ms, "group_by": shape["group_by"]})
    return rows, now


def refresh(now: datetime | None = None) -> int:
    """Recompute the rollups older than STATS_ROLLUP_REFRESH_SECONDS (oldest first, a batch per run); drop those
    nobody asked for in STATS_ROLLUP_KEEP_DAYS. Idempotent."""
    now = now or utcnow()
    keep = now - timedelta(days=int(setting("STATS_ROLLUP_KEEP_DAYS")))
    db.session.execute(delete(StatsRollup).where(StatsRollup.requested_at < keep))
    db.session.commit()
    due = now - timedelta(seconds=int(setting("STATS_ROLLUP_REFRESH_SECONDS")))
    stale = db.session.execute(
        select(StatsRollup.key, StatsRollup.shape)
        .where(StatsRollup.computed_at < due)
        .order_by(StatsRollup.computed_at)
        .limit(int(setting("STATS_ROLLUP_REFRESH_BATCH")))
    ).all()
    for key, shape in stale:
        rows, compute_ms = _timed(question_of(shape))
        computed = utcnow()
        db.session.execute(
            update(StatsRollup)
            .where(StatsRollup.key == key)
            .values(rows=rows, computed_at=computed, compute_ms=compute_ms)
        )
        db.session.commit()
    return len(stale)
