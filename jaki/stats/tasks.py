"""Periodic statistics work: keeping the medians' rollups fresh (jaki.schedule runs it once per slot)."""

from __future__ import annotations

import logging

from jaki.stats import rollup

log = logging.getLogger(__name__)


def refresh_rollups() -> int:
    """Recompute the stale rollups (a batch per run) and drop unused ones; returns how many were recomputed."""
    refreshed = rollup.refresh()
    if refreshed:
        log.info("stats rollups refreshed", extra={"count": refreshed})
    return refreshed
