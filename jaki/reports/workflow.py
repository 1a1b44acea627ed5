"""The report state machine: statuses, their public labels, and which role may make which transition."""

from __future__ import annotations

SUBMITTED = "submitted"
VERIFIED = "verified"
DISPATCHED = "dispatched"
IN_PROGRESS = "in_progress"
# The officer says the work is done; someone else (four-eyes) validates it before citizens see "Selesai".
AWAITING_VALIDATION = "awaiting_validation"
RESOLVED = "resolved"
CLOSED = "closed"
REJECTED = "rejected"
DUPLICATE = "duplicate"
# The reporter took it back before anyone was dispatched.
WITHDRAWN = "withdrawn"

STATUSES = (
    SUBMITTED,
    VERIFIED,
    DISPATCHED,
    IN_PROGRESS,
    AWAITING_VALIDATION,
    RESOLVED,
    CLOSED,
    REJECTED,
    DUPLICATE,
    WITHDRAWN,
)
# Someone still has to act: SLA clocks run, duplicates are offered, supporters may join. A report awaiting
# validation is still open: it is not done until someone other than the resolver says so.
OPEN_STATUSES = (SUBMITTED, VERIFIED, DISPATCHED, IN_PROGRESS, AWAITING_VALIDATION)
# The work is done and validated: counted as resolved in the statistics (within SLA when done by sla_due_at).
RESOLVED_STATUSES = (RESOLVED, CLOSED)
# Rejected reports may be spam or abuse, withdrawn ones were taken back: only the reporter and staff see them.
PUBLIC_STATUSES = tuple(s for s in STATUSES if s not in (REJECTED, WITHDRAWN))

# "system" is the scheduled job (auto-close); the others are User.role values. A validator (Biro Pemerintahan,
# the inspectorate) only validates resolutions.
ROLES = ("citizen", "officer", "agency_admin", "admin", "validator", "system")
STAFF = frozenset({"officer", "agency_admin", "admin"})
VALIDATORS = STAFF | {"validator"}

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
    # Resolving needs a note and an evidence photo (checked in operations). Where the category requires
    # validation (the default) the officer's "done" waits for it; only a category that skips validation
    # (Category.validation_required false) goes to resolved in one step.
    (IN_PROGRESS, AWAITING_VALIDATION): STAFF,
    (IN_PROGRESS, RESOLVED): STAFF,
    # Four-eyes (operations): someone other than the resolver, of the kelurahan unit of the report's kelurahan
    # or a validator, accepts (Selesai) or rejects with a reason (TL Ditolak: back to work, the SLA running).
    (AWAITING_VALIDATION, RESOLVED): VALIDATORS,
    (AWAITING_VALIDATION, IN_PROGRESS): VALIDATORS,
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
    # The reporter withdraws their own report before it is dispatched.
    (SUBMITTED, WITHDRAWN): frozenset({"citizen"}),
    (VERIFIED, WITHDRAWN): frozenset({"citizen"}),
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
NEEDS_REASON = frozenset(
    {
        (SUBMITTED, REJECTED),
        (VERIFIED, REJECTED),
        (RESOLVED, DISPATCHED),
        (CLOSED, DISPATCHED),
        (AWAITING_VALIDATION, IN_PROGRESS),
    }
)
REOPEN = frozenset({(RESOLVED, DISPATCHED), (CLOSED, DISPATCHED)})
# The validator's decisions (four-eyes, jaki.reports.scope.may_validate).
VALIDATION = frozenset({(AWAITING_VALIDATION, RESOLVED), (AWAITING_VALIDATION, IN_PROGRESS)})
# The officer's "done": a note and this round's evidence.
WORK_DONE = frozenset({(IN_PROGRESS, AWAITING_VALIDATION), (IN_PROGRESS, RESOLVED)})

# What citizens see: JAKI's labels (public code; the text is the i18n message report_label_<code>).
PUBLIC_LABELS = {
    SUBMITTED: "menunggu",
    VERIFIED: "koordinasi",
    DISPATCHED: "disposisi",
    IN_PROGRESS: "proses",
    AWAITING_VALIDATION: "menunggu_validasi",
    RESOLVED: "selesai",
    CLOSED: "selesai",
    REJECTED: "ditolak",
    DUPLICATE: "digabung",
    WITHDRAWN: "dibatalkan",
}
# Staff's label for a report back in progress because its validation was rejected (Jakarta's CRM: TL Ditolak).
VALIDATION_REJECTED_LABEL = "tl_ditolak"


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
