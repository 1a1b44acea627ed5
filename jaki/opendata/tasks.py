"""Periodic open-data work: the daily build of the published files (jaki.schedule, 02:00 WIB)."""

from __future__ import annotations

from jaki.opendata.operations import publish as _publish


def publish() -> int:
    """Build and store every open-data file; returns how many. Idempotent (a rebuild replaces the last)."""
    return len(_publish())
