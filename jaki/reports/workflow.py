"""The report state machine: statuses, their public labels, and which role may make which transition."""

from __future__ import annotations

SUBMITTED = "submitted"
VERIFIED = "verified"
DISPATCHED = "dispatched"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
CLOSED = "closed"
REJECTED = "rejected"
DUPLICATE = "duplicate"

STATUSES = (SUBMITTED, VERIFIED, DISPATCHED, IN_PROGRESS, RESOLVED, CLOSED, REJECTED, DUPLICATE)
# Someone still has to act: SLA clocks run, duplicates are offered, supporters may join.
OPEN_STATUSES = (SUBMITTED, VERIFIED, DISPATCHED, IN_PROGRESS)
# The work is done: counted as resolved in the statistics (and within SLA when done by sla_due_at).
RESOLVED_STATUSES = (RESOLVED, CLOSED)
# Rejected reports may be spam or abuse: only the reporter and staff see them.
PUBLIC_STATUSES = tuple(s for s in STATUSES if s != REJECTED)

# "system" is the scheduled job (auto-close); the others are User.role values.
ROLES = ("citizen", "officer", "agency_admin", "admin", "system")
STAFF = frozenset({"officer", "agency_admin", "admin"})

# THE table: (from, to) -> roles allowed. Anything not listed is forbidden for everyone.
# Scope comes on top (jaki.reports.operations): a citizen only acts on their own report; an officer on reports
# in their areas (verification) or of their agency (the work); an agency admin on their agency's reports.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # The kelurahan verifies (staff whose areas cover the report's kelurahan) or rejects with a reason.
    (SUBMITTED, VERIFIED): STAFF,
    (SUBMITTED, REJECTED): STAFF,
    (VERIFIED, REJECTED): STAFF,
    # The responsible agency dispatches to an officer (or to its own queue), then works on it.
    (VERIFIED, DISPATCHED): STAFF,
    (DISPATCHED, IN_PROGRESS): STAFF,
    # Resolving needs a note and an evidence photo (checked in operations).
    (IN_PROGRESS, RESOLVED): STAFF,
    # The reporter confirms, or the scheduled job closes after REPORTS_AUTO_CLOSE_DAYS; an admin may too.
    (RESOLVED, CLOSED): frozenset({"citizen", "admin", "system"}),
    # The reporter reopens within REPORTS_REOPEN_DAYS, with a reason: back to the agency's queue.
    (RESOLVED, DISPATCHED): frozenset({"citizen"}),
    (CLOSED, DISPATCHED): frozenset({"citizen"}),
    # Staff mark an open report as a duplicate of another (operations requires duplicate_of).
    (SUBMITTED, DUPLICATE): STAFF,
    (VERIFIED, DUPLICATE): STAFF,
    (DISPATCHED, DUPLICATE): STAFF,
    (IN_PROGRESS, DUPLICATE): STAFF,
}

# Transfers move a report to another kelurahan or agency; the status returns to where the new owner starts.
# kind -> (statuses it may happen in, roles, resulting status)
TRANSFERS: dict[str, tuple[frozenset[str], frozenset[str], str]] = {
    "kelurahan": (frozenset({SUBMITTED, VERIFIED}), STAFF, SUBMITTED),
    "agency": (frozenset({VERIFIED, DISPATCHED, IN_PROGRESS}), STAFF, VERIFIED),
}

# Transitions that make the kelurahan's decision rather than the agency's work. In Jakarta the kelurahan unit
# (the lurah's office) of the report's kelurahan verifies first; a category may instead be verified by its
# agency directly (Category.verified_by), where the city decided so.
VERIFICATION = frozenset({(SUBMITTED, VERIFIED), (SUBMITTED, REJECTED), (SUBMITTED, DUPLICATE)})
VERIFIERS = ("kelurahan", "agency")
# Transitions that need a reason from the actor.
NEEDS_REASON = frozenset({(SUBMITTED, REJECTED), (VERIFIED, REJECTED), (RESOLVED, DISPATCHED), (CLOSED, DISPATCHED)})
REOPEN = frozenset({(RESOLVED, DISPATCHED), (CLOSED, DISPATCHED)})

# What citizens see: JAKI's labels (public code; the text is the i18n message report_label_<code>).
PUBLIC_LABELS = {
    SUBMITTED: "menunggu",
    VERIFIED: "koordinasi",
    DISPATCHED: "disposisi",
    IN_PROGRESS: "proses",
    RESOLVED: "selesai",
    CLOSED: "selesai",
    REJECTED: "ditolak",
    DUPLICATE: "digabung",
}


def label_message(status: str) -> str:
    """The i18n message code of a status's public label."""
    return "report_label_" + PUBLIC_LABELS[status]


def allowed(from_status: str, to_status: str, role: str) -> bool:
    return role in TRANSITIONS.get((from_status, to_status), frozenset())


def transfer_allowed(kind: str, status: str, role: str) -> bool:
    rule = TRANSFERS.get(kind)
    return rule is not None and status in rule[0] and role in rule[1]


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES


def open311_status(status: str) -> str:
    """GeoReport v2 knows only open and closed."""
    return "open" if status in OPEN_STATUSES else "closed"
