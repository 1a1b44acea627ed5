"""Periodic tasks of the data-rights room (jaki.schedule's table): escalations, objections, retention."""

from __future__ import annotations

from jaki.pdp.consent import check_objections_applied
from jaki.pdp.corrections import escalate_overdue
from jaki.pdp.retention import enforce


def escalate_corrections() -> int:
    """Correction requests past their 3 x 24-hour acknowledgement deadline are escalated."""
    return escalate_overdue()


def check_objections() -> int:
    """Every objection (consent withdrawn) has taken effect within its 3 x 24 hours."""
    return check_objections_applied()


def enforce_retention() -> dict:
    """Recorded messages, access logs, closed corrections and breach reports past their retention period go."""
    return enforce()
