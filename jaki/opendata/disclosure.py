"""Disclosure control for published counts: small counts are suppressed, and so is anything that would give one back.

Primary: a count from 1 to 4 is published empty, with the row flagging which fields were suppressed (0 is published:
it points at nobody). Secondary: a row's status counts add up to its report count, so one suppressed status among
published ones would be the difference; a second status is then suppressed (the smallest non-zero one), so the
published figures leave at least two unknowns. The files publish no other totals (no sums over categories, areas or
months), so no other equation can give a suppressed count back; the files' README note says so.
Derived figures follow their counts: the share within SLA implies how many were on time and how many late, so it is
published only when the resolved count is, is at least 5, and neither part is from 1 to 4; a median of fewer than
5 resolution times is close to one person's, so it needs 5 as well.
"""

from __future__ import annotations

from collections.abc import Sequence

SMALLEST, LARGEST = 1, 4  # counts in this range are suppressed
MIN_FOR_DERIVED = LARGEST + 1


def small(value: int) -> bool:
    return SMALLEST <= value <= LARGEST


def suppressed_counts(values: dict[str, int], total: str, parts: Sequence[str]) -> set[str]:
    """The fields of a row to leave empty: `total` is the sum of `parts`."""
    hidden = {name for name in (total, *parts) if small(values[name])}
    hidden_parts = [name for name in parts if name in hidden]
    if total not in hidden and len(hidden_parts) == 1:
        others = [name for name in parts if name not in hidden and values[name] > 0]
        # Never empty here: a lone hidden part with every other part zero would equal the total, itself 1-4.
        hidden.add(min(others, key=lambda name: (values[name], parts.index(name))))
    return hidden


def share_publishable(resolved: int, within: int, resolved_hidden: bool) -> bool:
    late = resolved - within
    return not resolved_hidden and resolved >= MIN_FOR_DERIVED and not small(within) and not small(late)


def median_publishable(resolved: int, resolved_hidden: bool) -> bool:
    return not resolved_hidden and resolved >= MIN_FOR_DERIVED
