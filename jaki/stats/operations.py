"""The statistics a viewer may see: who sees what (scope), and each answer put together from its parts."""

from __future__ import annotations

from jaki.auth.models import COMMAND_CENTER, User
from jaki.db import utcnow
from jaki.errors import Forbidden
from jaki.i18n import current_language
from jaki.settings import setting
from jaki.stats import aggregates, applications, backlog, encode, integration, rollup, wide
from jaki.stats.query import (
    Names,
    Question,
    check_agency,
    check_area,
    check_category,
    month_key,
    parse_group_by,
    period,
)

# Who reads statistics: admins and the command center the whole city's; agency admins their own agency's.
VIEWERS = ("admin", COMMAND_CENTER, "agency_admin")


def scope(user: User, agency: str | None) -> str | None:
    """The agency the viewer's answer is limited to (None: all), given the agency they asked for."""
    if user.role in ("admin", COMMAND_CENTER):
        return agency
    if user.role == "agency_admin" and user.agency_code:
        if agency and agency != user.agency_code:
            raise Forbidden("stats_other_agency")
        return user.agency_code
    raise Forbidden()


def _question(user: User, args: dict, group_by: tuple[str, ...] = ()) -> Question:
    since, until = period(args.get("since"), args.get("until"))
    return Question(
        group_by=group_by,
        since=since,
        until=until,
        category=check_category(args.get("category")),
        agency=scope(user, check_agency(args.get("agency"))),
        area=check_area(args.get("area")),
    )


def report_stats(user: User, args: dict) -> dict:
    """Counts (exact, live) and medians (rollup, with its as_of) per group of the question, and the total."""
    question = _question(user, args, parse_group_by(args.get("group_by")))
    level = wide.applies(question)
    if level is None:
        counted, total = aggregates.counts(question)
        medians, medians_as_of = rollup.medians(question)
        names = Names(question.group_by)
        rows = encode.report_rows(question.group_by, counted, aggregates.COUNTS, medians, rollup.MEASURES, names.name)
    else:  # PostgreSQL writes the rows (all but their medians) in one statement
        total = aggregates.total(question)
        medians, medians_as_of = rollup.medians(question)
        rows = wide.report_rows(question, level, medians, rollup.MEASURES, current_language())
    empty = dict.fromkeys(rollup.MEASURES)
    return {
        "group_by": list(question.group_by),
        "since": month_key(question.since),
        "until": month_key(question.until),
        "category": question.category,
        "agency": question.agency,
        "area": question.area,
        "counts_as_of": utcnow(),
        "medians_as_of": medians_as_of,
        "rows": rows,  # already JSON (jaki.stats.encode): thousands of rows at a kelurahan x category grouping
        "total": {**total, **medians.get(rollup.TOTAL, empty)},
    }


def backlog_stats(user: User, args: dict) -> dict:
    return backlog.backlog(args["group_by"], agency=scope(user, check_agency(args.get("agency"))))


def summary(user: User, args: dict) -> dict:
    """The command center's headline numbers: filed today, the open backlog, the period's SLA record."""
    question = _question(user, args)
    _, counted = aggregates.counts(question)
    now = utcnow()
    open_now = {
        "total": backlog.totals(agency=question.agency, now=now),
        "red_flag_days": int(setting("STATS_RED_FLAG_DAYS")),
    }
    resolved = counted["resolved"]
    return {
        "since": month_key(question.since),
        "until": month_key(question.until),
        "agency": question.agency,
        "as_of": now,
        "today": backlog.filed_today(agency=question.agency, now=now),
        "open": open_now["total"]["open"],
        "overdue": open_now["total"]["overdue"],
        "red_flagged": open_now["total"]["red_flagged"],
        "red_flag_days": open_now["red_flag_days"],
        "oldest_open_hours": open_now["total"]["oldest_hours"],
        "filed": counted["count"],
        "resolved": resolved,
        "within_sla": counted["within_sla"],
        "within_sla_share": round(counted["within_sla"] / resolved, 4) if resolved else None,
        "sla_breached": counted["sla_breached"],
    }


def agency_board(user: User) -> dict:
    return integration.board(agency=scope(user, None))


def application_stats(user: User, args: dict) -> dict:
    question = _question(user, {"since": args.get("since"), "until": args.get("until")})
    answer = applications.per_type(
        question, kind=args.get("kind"), agency=scope(user, check_agency(args.get("agency")))
    )
    return {"since": month_key(question.since), "until": month_key(question.until), "kind": args.get("kind"), **answer}
