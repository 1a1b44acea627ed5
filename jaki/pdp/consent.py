"""Objection to optional processing: area alerts by home location and programme marketing, stopped within 3 x 24 h.

The choices as read (jaki.notifications.delivery asks home_area_for_alerts at each send): this module sits below
jaki.notifications. Changing a choice resyncs devices through delivery, so that lives above it, in
jaki.pdp.objections."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from jaki.db import utcnow
from jaki.extensions import db
from jaki.notifications.areas import topics_for_home
from jaki.notifications.models import Device
from jaki.pdp.models import ConsentChoice

log = logging.getLogger(__name__)

AREA_ALERTS = "area_alerts"  # push topics of the home kelurahan, kecamatan and kota (jaki.notifications)
PROGRAMME_MARKETING = "programme_marketing"  # offers of programmes a citizen has not asked about
# Optional processing, on until the citizen objects (lawful basis: legitimate interest, so objection stops it).
PURPOSES = {AREA_ALERTS: True, PROGRAMME_MARKETING: True}


def choices(user) -> dict[str, dict]:
    rows = {r.purpose: r for r in db.session.scalars(select(ConsentChoice).where(ConsentChoice.user_id == user.id))}
    out = {}
    for purpose, default in PURPOSES.items():
        row = rows.get(purpose)
        out[purpose] = {
            "granted": default if row is None else row.granted,
            "changed_at": row.changed_at if row else None,
            "effective_by": row.effective_by if row else None,
        }
    return out


def allows(user_id: str, purpose: str) -> bool:
    """Whether optional processing `purpose` may run for the person: every sender of such messages asks here."""
    row = db.session.get(ConsentChoice, (user_id, purpose))
    return PURPOSES[purpose] if row is None else row.granted


def home_area_for_alerts(user) -> str | None:
    """The home kelurahan area alerts may use: None once the citizen objected (city-wide alerts only)."""
    if user is None or not allows(user.id, AREA_ALERTS):
        return None
    return user.home_kelurahan_code


def check_objections_applied(now=None) -> int:
    """The periodic check that every objection took effect: devices of objectors hold no area topic. Marks
    applied_at, and resyncs (and warns about) any device still subscribed as the deadline nears."""
    now = now or utcnow()
    city_wide = set(topics_for_home(None))
    pending = db.session.scalars(
        select(ConsentChoice).where(ConsentChoice.granted.is_(False), ConsentChoice.applied_at.is_(None)).limit(500)
    ).all()
    applied = 0
    for row in pending:
        if row.purpose != AREA_ALERTS:
            row.applied_at = now  # nothing runs that would need stopping: allows() is asked at each send
            applied += 1
            continue
        devices = db.session.scalars(
            select(Device).where(Device.user_id == row.user_id, Device.removed_at.is_(None))
        ).all()
        stale = [d for d in devices if set(d.topics or []) - city_wide]
        if not stale:
            row.applied_at = now
            applied += 1
        elif row.effective_by is not None and row.effective_by - now < timedelta(hours=12):
            log.warning("objection not yet applied to devices", extra={"user_id": row.user_id})
            for device in stale:
                device.topics_synced_at = None  # the sweeper resyncs them
    db.session.commit()
    return applied
