"""/stats: the command center's numbers (admins, the command center, agency admins for their own agency)."""

from __future__ import annotations

from flask import current_app
from flask_jwt_extended import current_user

from jaki.api import API_PREFIX, Blueprint
from jaki.auth.permissions import roles_required
from jaki.stats import encode, operations, owner
from jaki.stats import schemas as s

blp = Blueprint("stats", __name__, url_prefix=f"{API_PREFIX}/stats", description="Statistik pusat komando")
_VIEWERS = roles_required(*operations.VIEWERS)


def as_json(body: dict):
    """The answer written straight to JSON: it is made of plain values already, in the documented shape (a test
    holds it equal to the schema's dump), and marshmallow took 30 ms for the 267 rows of a kelurahan grouping; a
    wide answer's rows come already written (jaki.stats.encode)."""
    return current_app.response_class(encode.dumps(body), mimetype="application/json")


@blp.route("/reports", methods=["GET"])
@_VIEWERS
@blp.login_required_doc
@blp.arguments(s.ReportStatsArgsSchema, location="query")
@blp.response(200, s.ReportStatsSchema)
def report_stats(args):
    """Reports per group (kota, kecamatan, kelurahan, category, agency, month, status; two at once) over whole
    Jakarta months: exact counts, SLA record, reopenings, and medians and p90 from the rollup (medians_as_of)."""
    return as_json(operations.report_stats(current_user, args))


@blp.route("/summary", methods=["GET"])
@_VIEWERS
@blp.login_required_doc
@blp.arguments(s.SummaryArgsSchema, location="query")
@blp.response(200, s.SummarySchema)
def summary(args):
    """Headline numbers: filed today, open, overdue, red-flagged, and the period's share resolved within SLA."""
    return operations.summary(current_user, args)


@blp.route("/backlog", methods=["GET"])
@_VIEWERS
@blp.login_required_doc
@blp.arguments(s.BacklogArgsSchema, location="query")
@blp.response(200, s.BacklogSchema)
def backlog(args):
    """Open reports per unit: open, overdue, red-flagged (open STATS_RED_FLAG_DAYS or more) and the oldest."""
    return as_json(operations.backlog_stats(current_user, args))


@blp.route("/agencies", methods=["GET"])
@_VIEWERS
@blp.login_required_doc
@blp.response(200, s.AgencyBoardSchema)
def agencies():
    """The 52 offices: integrated or not, and per connector its breaker state, latency and last success."""
    return operations.agency_board(current_user)


@blp.route("/applications", methods=["GET"])
@_VIEWERS
@blp.login_required_doc
@blp.arguments(s.ApplicationStatsArgsSchema, location="query")
@blp.response(200, s.ApplicationStatsSchema)
def applications(args):
    """Permits and letters per type: applications, decided within SLA, median working days to a decision."""
    return operations.application_stats(current_user, args)


@blp.route("/time-to-owner", methods=["GET"])
@_VIEWERS
@blp.login_required_doc
@blp.arguments(s.TimeToOwnerArgsSchema, location="query")
@blp.response(200, s.TimeToOwnerSchema)
def time_to_owner(args):
    """Time to owner (issue 15): receipt -> dispatch to the unit that resolved the report, median and p90 per
    agency, over the reports filed in the last `days` days whose work is done."""
    return owner.time_to_owner(current_user, args)
