"""The permit and letter state machine: statuses, and which side (applicant or officer) may make which move."""

from __future__ import annotations

APPLICANT, OFFICER = "applicant", "officer"

# THE table: kind -> (from, to) -> who may make the move. Anything else is refused: statuses never jump.
# Scope comes on top (jaki.services.permits.operations): an applicant acts on their own application, an officer
# on applications of their agency's types in their areas.
TRANSITIONS: dict[str, dict[tuple[str, str], str]] = {
    "permit": {
        ("draft", "submitted"): APPLICANT,
        ("draft", "withdrawn"): APPLICANT,
        ("submitted", "in_verification"): OFFICER,
        ("submitted", "rejected"): OFFICER,
        ("submitted", "withdrawn"): APPLICANT,
        ("in_verification", "revision_requested"): OFFICER,
        ("in_verification", "in_review"): OFFICER,
        ("in_verification", "rejected"): OFFICER,
        ("in_verification", "withdrawn"): APPLICANT,
        ("revision_requested", "in_verification"): APPLICANT,  # resubmitted with what was asked for
        ("revision_requested", "withdrawn"): APPLICANT,
        ("in_review", "approved"): OFFICER,
        ("in_review", "rejected"): OFFICER,
        ("approved", "issued"): OFFICER,
    },
    "letter": {
        ("draft", "submitted"): APPLICANT,
        ("draft", "withdrawn"): APPLICANT,
        ("submitted", "in_process"): OFFICER,
        ("submitted", "rejected"): OFFICER,
        ("submitted", "withdrawn"): APPLICANT,
        ("in_process", "revision_requested"): OFFICER,
        ("in_process", "issued"): OFFICER,
        ("in_process", "rejected"): OFFICER,
        ("revision_requested", "in_process"): APPLICANT,
        ("revision_requested", "withdrawn"): APPLICANT,
    },
}
TERMINAL = ("issued", "rejected", "withdrawn")
EDITABLE = ("draft", "revision_requested")  # documents may be added or replaced
NOTE_REQUIRED = ("rejected", "revision_requested")  # the applicant must be told why
STATUSES = {kind: sorted({s for pair in moves for s in pair}) for kind, moves in TRANSITIONS.items()}
# Where the applicant's "submit" goes from each editable status; a revision returns to the office's desk.
SUBMIT_TO = {
    "permit": {"draft": "submitted", "revision_requested": "in_verification"},
    "letter": {"draft": "submitted", "revision_requested": "in_process"},
}


def allowed(kind: str, from_status: str, to_status: str, role: str) -> bool:
    return TRANSITIONS[kind].get((from_status, to_status)) == role


def submit_target(kind: str, status: str) -> str:
    """The status "submit" asks for; from any other status it asks for "submitted", which the table refuses."""
    return SUBMIT_TO[kind].get(status, "submitted")
