"""Periodic permit work: flag applications past their service-level deadline (once each)."""

from __future__ import annotations

from jaki.services.permits.operations import flag_sla_breaches


def flag_permit_sla_breaches() -> int:
    """Flag open permits and letters past their SLA; records permit.sla_breached / letter.sla_breached.

    Idempotent: the flag is stamped on the row with its event in one transaction, and flagged rows are not
    selected again. Schedule it every few minutes; returns how many were flagged.
    """
    return flag_sla_breaches()
