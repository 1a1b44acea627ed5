"""Scheduled jobs: SLA escalation and auto-closing, each idempotent and callable with no arguments."""

from datetime import timedelta

from sqlalchemy import select

from jaki.db import utcnow
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.reports import queries, tasks, transitions
from jaki.reports.models import Report, ReportHistory
from tests.reports.factories import agency_admin, citizen, make_report, officer


def events(report_id, type_):
    return db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.aggregate_id == report_id, OutboxEvent.type == type_)
    ).all()


def test_sla_breaches_are_flagged_once_and_the_agency_admins_told(ctx):
    now = utcnow()
    boss, other_agency_boss = agency_admin(), agency_admin(agency="DLH")
    worker = officer()
    late = make_report(status="dispatched", assigned_officer_id=worker.id, sla_due_at=now - timedelta(hours=2))
    on_time = make_report(at="blok_m", sla_due_at=now + timedelta(hours=2))
    finished = make_report(at="monas", status="resolved", sla_due_at=now - timedelta(hours=2))
    version = late.version

    assert tasks.escalate_sla_breaches() == 1
    assert tasks.escalate_sla_breaches() == 0  # idempotent
    late = db.session.get(Report, late.id)
    db.session.refresh(late)
    assert late.sla_breached_at is not None and late.version == version  # an officer's ETag stays valid
    assert db.session.get(Report, on_time.id).sla_breached_at is None
    assert db.session.get(Report, finished.id).sla_breached_at is None
    [breach] = events(late.id, "report.sla_breached")
    assert breach.payload["recipients"] == [boss.id, worker.id]
    assert other_agency_boss.id not in breach.payload["recipients"]
    assert breach.payload["data"]["overdue_hours"] == 2
    entry = db.session.scalars(
        select(ReportHistory).where(ReportHistory.report_id == late.id).order_by(ReportHistory.id.desc())
    ).first()
    assert (entry.action, entry.actor_role) == ("sla_breached", "system")

    public = queries.get_public_report(late.id)
    assert public.sla_breached_at is not None


def test_breached_reports_come_first_in_the_queue_and_are_flagged_publicly(client, ctx):
    from tests.factories import auth_header

    now = utcnow()
    make_report(at=(-6.2700, 106.7760), sla_due_at=now + timedelta(hours=5))
    late = make_report(at=(-6.2690, 106.7760), sla_due_at=now - timedelta(hours=1))
    tasks.escalate_sla_breaches()
    queue = client.get("/api/v1/officer/reports", headers=auth_header(officer())).json["items"]
    assert queue[0]["id"] == late.id and queue[0]["sla_breached_at"] is not None
    assert client.get(f"/api/v1/reports/{late.id}").json["sla_breached"] is True


def test_reopening_restarts_the_sla(ctx):
    reporter = citizen()
    report = make_report(
        reporter,
        status="resolved",
        sla_due_at=utcnow() - timedelta(days=1),
        sla_breached_at=utcnow() - timedelta(hours=20),
    )
    report = transitions.transition(
        reporter, report.id, "dispatched", expected_version=report.version, reason="Masih berlubang"
    )
    assert report.sla_breached_at is None and report.sla_due_at > utcnow()


def test_resolved_reports_close_automatically_after_the_set_days(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_AUTO_CLOSE_DAYS", 7)
    reporter = citizen()
    old = make_report(reporter, status="resolved", resolved_at=utcnow() - timedelta(days=8))
    recent = make_report(reporter, at="blok_m", status="resolved", resolved_at=utcnow() - timedelta(days=2))
    assert tasks.auto_close_resolved() == 1
    assert tasks.auto_close_resolved() == 0
    old = db.session.get(Report, old.id)
    assert old.status == "closed" and old.closed_at is not None
    assert db.session.get(Report, recent.id).status == "resolved"
    entry = db.session.scalars(
        select(ReportHistory).where(ReportHistory.report_id == old.id).order_by(ReportHistory.id.desc())
    ).first()
    assert (entry.from_status, entry.to_status, entry.actor_role, entry.actor_id) == (
        "resolved",
        "closed",
        "system",
        None,
    )
    [closed] = events(old.id, "report.status_changed")
    assert closed.payload["recipients"] == [reporter.id]


def test_auto_close_skips_a_report_changed_since_it_was_read(ctx, monkeypatch):
    report = make_report(status="resolved", resolved_at=utcnow() - timedelta(days=30))
    original = transitions.transition

    def someone_reopened_first(actor, report_id, to_status, **kwargs):
        db.session.execute(
            Report.__table__.update()
            .where(Report.id == report_id)
            .values(version=Report.version + 1, status="dispatched")
        )
        db.session.commit()
        db.session.expire_all()
        return original(actor, report_id, to_status, **kwargs)

    monkeypatch.setattr(transitions, "transition", someone_reopened_first)
    assert tasks.auto_close_resolved() == 0
    assert db.session.get(Report, report.id).status == "dispatched"


def test_jobs_are_plain_functions_rq_can_import():
    from jaki.jobs import function_path

    assert function_path(tasks.escalate_sla_breaches) == "jaki.reports.tasks.escalate_sla_breaches"
    assert function_path(tasks.auto_close_resolved) == "jaki.reports.tasks.auto_close_resolved"
    assert function_path(tasks.make_photo_thumbnail) == "jaki.reports.tasks.make_photo_thumbnail"
