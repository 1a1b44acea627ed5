"""The state machine: every (from, to, role) allowed or forbidden, its side conditions, and the immutable history."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from jaki.db import utcnow
from jaki.errors import JakiError
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.i18n import translate
from jaki.reports import events, operations, transitions
from jaki.reports import workflow as wf
from jaki.reports.models import HistoryImmutable, Report, ReportHistory
from tests.factories import auth_header, ensure_agency
from tests.reports.factories import (
    add_evidence_row,
    admin,
    agency_admin,
    category,
    citizen,
    kelurahan_officer,
    make_report,
    officer,
    validator,
)

STAFF = {"officer", "agency_admin", "admin"}
VALIDATORS = STAFF | {"validator"}
# Written out independently of jaki.reports.workflow.TRANSITIONS: this is the specification. Issue 15: the
# officer's "done" waits in awaiting_validation for someone else (in_progress -> resolved in one step only for a
# category that skips validation), and the reporter may withdraw before dispatch.
EXPECTED = {
    ("submitted", "verified"): STAFF,
    ("submitted", "rejected"): STAFF,
    ("verified", "rejected"): STAFF,
    ("verified", "dispatched"): STAFF,
    ("dispatched", "in_progress"): STAFF,
    ("in_progress", "awaiting_validation"): STAFF,
    ("in_progress", "resolved"): STAFF,
    ("awaiting_validation", "resolved"): VALIDATORS,
    ("awaiting_validation", "in_progress"): VALIDATORS,
    ("submitted", "withdrawn"): {"reporter"},
    ("verified", "withdrawn"): {"reporter"},
    ("resolved", "closed"): {"reporter", "admin", "system"},
    ("resolved", "dispatched"): {"reporter"},
    ("closed", "dispatched"): {"reporter"},
    ("submitted", "duplicate"): STAFF,
    ("verified", "duplicate"): STAFF,
    ("dispatched", "duplicate"): STAFF,
    ("in_progress", "duplicate"): STAFF,
}
ACTORS = ("reporter", "other_citizen", "officer", "agency_admin", "admin", "validator", "system")
MOVES = [(a, b) for a in wf.STATUSES for b in wf.STATUSES]


def test_the_table_in_code_is_the_specification():
    table = {move: {("reporter" if r == "citizen" else r) for r in roles} for move, roles in wf.TRANSITIONS.items()}
    assert table == EXPECTED


@pytest.mark.parametrize(("from_status", "to_status"), MOVES, ids=[f"{a}->{b}" for a, b in MOVES])
def test_every_transition_for_every_role(ctx, from_status, to_status):
    """Each actor tries the move on a fresh report in from_status, with every input a move could need."""
    people = {
        "reporter": citizen(),
        "other_citizen": citizen(),
        "officer": officer(),
        "agency_admin": agency_admin(),
        "admin": admin(),
        "validator": validator(),
        "system": None,
    }
    if from_status in ("submitted", "awaiting_validation"):
        # Issue 11: the kelurahan unit verifies (its officer and its head), not the agency's staff; issue 15: it
        # validates the agency's resolutions too.
        people["officer"] = kelurahan_officer()
        people["agency_admin"] = kelurahan_officer(role="agency_admin")
    # Issue 15: only a category that skips validation is resolved in one step.
    category("jalan_rusak").validation_required = (from_status, to_status) != ("in_progress", "resolved")
    outcomes = {}
    for actor_name in ACTORS:
        reporter = people["reporter"]
        report = make_report(reporter, status=from_status)
        if from_status == "in_progress":
            add_evidence_row(report)
        original = make_report(reporter, at="blok_m")
        version = report.version
        try:
            transitions.transition(
                people[actor_name],
                report.id,
                to_status,
                expected_version=version,
                reason="Alasan yang jelas",
                note="Lubang sudah ditambal",
                duplicate_of_id=original.id,
            )
        except JakiError as exc:
            assert exc.status in (403, 404, 409), (actor_name, exc.code, exc.errors)  # 404: rejected, not theirs
            outcomes[actor_name] = "refused"
            db.session.rollback()
            assert db.session.get(Report, report.id).status == from_status
            continue
        outcomes[actor_name] = "ok"
        stored = db.session.get(Report, report.id)
        assert stored.status == to_status and stored.version == version + 1
        entry = db.session.scalars(
            select(ReportHistory).where(ReportHistory.report_id == report.id).order_by(ReportHistory.id.desc())
        ).first()
        assert (entry.from_status, entry.to_status, entry.action) == (from_status, to_status, "transition")
        expected_role = {"reporter": "citizen", "other_citizen": "citizen", "system": "system"}.get(
            actor_name, actor_name
        )
        assert entry.actor_role == expected_role
    allowed = EXPECTED.get((from_status, to_status), set())
    assert outcomes == {a: ("ok" if a in allowed else "refused") for a in ACTORS}


def test_unknown_move_is_409_and_wrong_role_is_403(ctx):
    report = make_report(status="submitted")
    with pytest.raises(JakiError) as caught:
        transitions.transition(officer(), report.id, "closed", expected_version=report.version)
    assert (caught.value.status, caught.value.code) == (409, "transition_not_allowed")
    assert caught.value.message == "Status laporan tidak dapat diubah dari Menunggu ke Selesai."
    with pytest.raises(JakiError) as caught:
        transitions.transition(
            db.session.get(type(officer()), report.reporter_id), report.id, "verified", expected_version=report.version
        )
    assert (caught.value.status, caught.value.code) == (403, "transition_forbidden")


def test_scope_officer_outside_their_area_or_agency_cannot_act(ctx):
    report = make_report(status="submitted")  # Pondok Pinang, 31.74.05, jalan_rusak -> DBM
    for outsider in (
        officer(areas=["31.71"]),
        officer(agency="DSDA", areas=["31.71"]),
        agency_admin(agency="DLH", areas=["31.75"]),
    ):
        with pytest.raises(JakiError) as caught:
            transitions.transition(outsider, report.id, "verified", expected_version=report.version)
        assert caught.value.status == 403
    # Issue 11: verification is the kelurahan unit's, no longer any staff whose areas cover it: not another
    # agency's officer there, not the agency's own staff, not the unit of another kelurahan.
    for not_the_unit in (
        officer(agency="DSDA", areas=["31.74.05.1002"]),
        officer(),
        agency_admin(),
        kelurahan_officer(areas=["31.71.01.1001"]),
    ):
        with pytest.raises(JakiError) as caught:
            transitions.transition(not_the_unit, report.id, "verified", expected_version=report.version)
        assert (caught.value.status, caught.value.code) == (403, "transition_forbidden")
    transitions.transition(kelurahan_officer(), report.id, "verified", expected_version=report.version)
    # Dispatching is the agency's: a DSDA officer covering the area may not, a DBM one may.
    report = db.session.get(Report, report.id)
    with pytest.raises(JakiError) as caught:
        transitions.transition(
            officer(agency="DSDA", areas=["31.74"]), report.id, "dispatched", expected_version=report.version
        )
    assert caught.value.status == 403
    transitions.transition(officer(), report.id, "dispatched", expected_version=report.version)


def test_assigned_report_belongs_to_its_officer_until_the_agency_admin_says_otherwise(ctx):
    first, second = officer(), officer()
    report = make_report(status="dispatched", assigned_officer_id=first.id)
    with pytest.raises(JakiError) as caught:
        transitions.transition(second, report.id, "in_progress", expected_version=report.version)
    assert (caught.value.status, caught.value.code) == (409, "report_already_claimed")
    report = transitions.transition(agency_admin(), report.id, "in_progress", expected_version=report.version)
    assert report.assigned_officer_id == first.id


def test_side_conditions_reason_note_evidence(ctx):
    report = make_report(status="submitted")
    with pytest.raises(JakiError) as caught:
        transitions.transition(kelurahan_officer(), report.id, "rejected", expected_version=report.version, reason="  ")
    assert (caught.value.status, caught.value.code) == (422, "report_reason_required")

    # Issue 15: the officer's "done" is awaiting_validation (this category requires validation).
    report = make_report(status="in_progress")
    worker = officer()
    with pytest.raises(JakiError) as caught:
        transitions.transition(
            worker, report.id, "awaiting_validation", expected_version=report.version, note="Sudah diperbaiki"
        )
    assert (caught.value.status, caught.value.code) == (422, "evidence_required")
    add_evidence_row(report, by=worker)
    with pytest.raises(JakiError) as caught:
        transitions.transition(worker, report.id, "awaiting_validation", expected_version=report.version)
    assert caught.value.code == "resolution_note_required"
    with pytest.raises(JakiError) as caught:
        transitions.transition(worker, report.id, "resolved", expected_version=report.version, note="Sudah")
    assert (caught.value.status, caught.value.code) == (409, "validation_required")
    report = transitions.transition(
        worker, report.id, "awaiting_validation", expected_version=report.version, note="Sudah diperbaiki"
    )
    assert report.resolution_note == "Sudah diperbaiki" and report.resolved_at is None
    assert report.resolved_by_id == worker.id and report.work_done_at is not None


def test_reopen_within_the_window_needs_new_evidence_afterwards(ctx, app, monkeypatch):
    reporter = citizen()
    report = make_report(reporter, status="resolved", resolution_note="Selesai")
    add_evidence_row(report)
    report = transitions.transition(
        reporter, report.id, "dispatched", expected_version=report.version, reason="Lubangnya muncul lagi"
    )
    assert (report.status, report.reopen_count, report.resolved_at, report.resolution_note) == (
        "dispatched",
        1,
        None,
        None,
    )
    assert report.sla_due_at > utcnow() + timedelta(hours=71)
    worker = officer()
    report = transitions.transition(worker, report.id, "in_progress", expected_version=report.version)
    with pytest.raises(JakiError) as caught:  # the old round's evidence does not count
        transitions.transition(worker, report.id, "awaiting_validation", expected_version=report.version, note="Beres")
    assert caught.value.code == "evidence_required"

    monkeypatch.setitem(app.config, "REPORTS_REOPEN_DAYS", 3)
    late = make_report(reporter, status="closed", resolved_at=utcnow() - timedelta(days=4))
    with pytest.raises(JakiError) as caught:
        transitions.transition(reporter, late.id, "dispatched", expected_version=late.version, reason="Belum beres")
    assert (caught.value.status, caught.value.code) == (409, "reopen_window_passed")
    assert "3 hari" in caught.value.message


def test_dispatch_to_an_officer_of_the_agency_only(ctx):
    report = make_report(status="verified")
    with pytest.raises(JakiError) as caught:
        transitions.transition(
            admin(), report.id, "dispatched", expected_version=report.version, officer_id=officer(agency="DSDA").id
        )
    assert caught.value.code == "officer_invalid"
    worker = officer()
    report = transitions.transition(
        agency_admin(), report.id, "dispatched", expected_version=report.version, officer_id=worker.id
    )
    assert report.assigned_officer_id == worker.id
    assigned = db.session.scalar(
        select(OutboxEvent).where(OutboxEvent.aggregate_id == report.id, OutboxEvent.type == "report.assigned")
    )
    assert assigned.payload["recipients"] == [worker.id]


def test_marking_a_duplicate_moves_the_reporter_and_supporters_to_the_original(ctx):
    original_reporter, dup_reporter, supporter = citizen(), citizen(), citizen()
    original = make_report(original_reporter)
    duplicate = make_report(dup_reporter, at="blok_m")
    operations.support(supporter, duplicate.id)
    duplicate = db.session.get(Report, duplicate.id)
    melawai = kelurahan_officer(areas=["31.74.07.1001"])  # the duplicate was filed in Blok M, still submitted
    with pytest.raises(JakiError) as caught:
        transitions.mark_duplicate(melawai, duplicate.id, duplicate.id, expected_version=duplicate.version)
    assert caught.value.code == "duplicate_of_invalid"
    done = transitions.mark_duplicate(melawai, duplicate.id, original.id, expected_version=duplicate.version)
    assert done.status == "duplicate" and done.duplicate_of_id == original.id
    original = db.session.get(Report, original.id)
    db.session.refresh(original)
    assert original.support_count == 2
    assert set(events.supporter_ids(original.id)) == {dup_reporter.id, supporter.id}


def test_public_labels_are_jakis(client, ctx):
    labels = {status: translate(wf.label_message(status)) for status in wf.STATUSES}
    assert labels == {
        "submitted": "Menunggu",
        "verified": "Koordinasi",
        "dispatched": "Disposisi",
        "in_progress": "Proses",
        "awaiting_validation": "Menunggu Validasi",
        "resolved": "Selesai",
        "closed": "Selesai",
        "rejected": "Ditolak",
        "duplicate": "Digabung dengan laporan lain",
        "withdrawn": "Dibatalkan pelapor",
    }
    report = make_report(status="in_progress")
    body = client.get(f"/api/v1/reports/{report.id}").json
    assert body["public_status"] == {"code": "proses", "label": "Proses"}
    english = client.get(f"/api/v1/reports/{report.id}", headers={"Accept-Language": "en"}).json
    assert english["public_status"]["label"] == "In progress"


def test_transitions_through_the_api_and_history_for_the_reporter(client, ctx):
    reporter = citizen()
    report = make_report(reporter)
    worker = officer()
    etag = client.get(f"/api/v1/reports/{report.id}").headers["ETag"]
    # The kelurahan unit verifies; Bina Marga's officer dispatches and works it.
    for to_status, actor in (("verified", kelurahan_officer()), ("dispatched", worker), ("in_progress", worker)):
        response = client.post(
            f"/api/v1/reports/{report.id}/transitions",
            json={"to": to_status},
            headers={**auth_header(actor), "If-Match": etag},
        )
        assert response.status_code == 200, response.json
        assert response.json["status"] == to_status
        etag = response.headers["ETag"]
    add_evidence_row(db.session.get(Report, report.id), by=worker)
    # Issue 15: the officer's "done" waits for the kelurahan unit's validation before it is Selesai.
    response = client.post(
        f"/api/v1/reports/{report.id}/transitions",
        json={"to": "awaiting_validation", "note": "Ditambal"},
        headers={**auth_header(worker), "If-Match": etag},
    )
    assert response.status_code == 200 and response.json["public_status"]["label"] == "Menunggu Validasi"
    response = client.post(
        f"/api/v1/reports/{report.id}/transitions",
        json={"to": "resolved"},
        headers={**auth_header(kelurahan_officer()), "If-Match": response.headers["ETag"]},
    )
    assert response.status_code == 200 and response.json["public_status"]["label"] == "Selesai"
    response = client.post(
        f"/api/v1/reports/{report.id}/transitions",
        json={"to": "closed"},
        headers={**auth_header(reporter), "If-Match": response.headers["ETag"]},
    )
    assert response.status_code == 200
    mine = client.get(f"/api/v1/me/reports/{report.id}", headers=auth_header(reporter)).json
    assert [h["to_status"] for h in mine["history"]] == [
        "submitted",
        "verified",
        "dispatched",
        "in_progress",
        "awaiting_validation",
        "resolved",
        "closed",
    ]
    assert all(
        set(h) == {"at", "action", "actor_role", "from_status", "to_status", "public_status", "reason"}
        for h in mine["history"]
    )
    events = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.aggregate_id == report.id, OutboxEvent.type == "report.status_changed")
    ).all()
    assert len(events) == 6
    assert all(reporter.id in e.payload["recipients"] for e in events[:5])
    assert reporter.id not in events[5].payload["recipients"]  # nobody is told about their own action


def test_history_rows_are_immutable_in_the_orm_and_in_the_database(ctx):
    report = make_report()
    entry = db.session.scalar(select(ReportHistory).where(ReportHistory.report_id == report.id))
    entry.reason = "diubah"
    with pytest.raises(HistoryImmutable):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DBAPIError), db.session.begin_nested():
        db.session.execute(text("UPDATE report_history SET reason = 'diubah' WHERE id = :id"), {"id": entry.id})
    assert db.session.scalar(select(ReportHistory.reason).where(ReportHistory.id == entry.id)) is None


TRANSFER_EXPECTED = {
    "kelurahan": ({"submitted", "verified"}, "submitted"),
    "agency": ({"verified", "dispatched", "in_progress"}, "verified"),
}


@pytest.mark.parametrize("kind", ["kelurahan", "agency"])
def test_every_transfer_for_every_status_and_role(ctx, kind):
    assert {k: (set(v[0]), v[2]) for k, v in wf.TRANSFERS.items()} == TRANSFER_EXPECTED
    statuses, result = TRANSFER_EXPECTED[kind]
    reporter = citizen()
    people = {
        "reporter": reporter,
        "other_citizen": citizen(),
        "officer": officer(),
        "agency_admin": agency_admin(),
        "admin": admin(),
    }
    if kind == "kelurahan":  # issue 11: passing a report to another kelurahan is the kelurahan unit's decision
        people["officer"] = kelurahan_officer()
        people["agency_admin"] = kelurahan_officer(role="agency_admin")
    target = {"kelurahan_code": "31.74.05.1003"} if kind == "kelurahan" else {"agency_code": "DSDA"}
    ensure_agency("DSDA")
    for status in wf.STATUSES:
        for name, actor in people.items():
            report = make_report(reporter, status=status)
            try:
                done = transitions.transfer(
                    actor, report.id, expected_version=report.version, reason="Salah alamat", **target
                )
            except JakiError as exc:
                assert exc.status in (403, 409), (status, name, exc.code)
                db.session.rollback()
                ok = False
            else:
                assert done.status == result
                ok = True
            assert ok == (status in statuses and name in STAFF), (status, name)


def test_a_dinkes_officer_cannot_verify_a_road_report(client, ctx):
    """The case of the issue: an officer covering the area, of an unrelated agency, verified Bina Marga's report."""
    report = make_report()  # jalan_rusak in Pondok Pinang -> DBM
    dinkes = officer(agency="DINKES", areas=["31.74"])
    response = client.post(
        f"/api/v1/reports/{report.id}/transitions",
        json={"to": "verified"},
        headers={**auth_header(dinkes), "If-Match": f'"{report.version}"'},
    )
    assert response.status_code == 403 and response.json["code"] == "transition_forbidden"
    assert report.id not in [
        r["id"] for r in client.get("/api/v1/officer/reports", headers=auth_header(dinkes)).json["items"]
    ]
    assert db.session.get(Report, report.id).status == "submitted"


def test_a_category_the_city_has_its_agency_verify(client, ctx):
    boss = admin()
    make_report()  # seeds the categories
    patched = client.patch(
        "/api/v1/report-categories/lampu_jalan", json={"verified_by": "agency"}, headers=auth_header(boss)
    )
    assert patched.status_code == 200 and patched.json["verified_by"] == "agency"
    assert client.get("/api/v1/report-categories").json[0]["verified_by"] in ("kelurahan", "agency")
    lamp = make_report(category_code="lampu_jalan")  # DBM's
    road = make_report(at=(-6.2650, 106.7800))  # still the kelurahan's to verify
    dbm = officer()
    # Bina Marga verifies its street lights directly; the kelurahan unit does not, nor may another agency.
    for outsider in (kelurahan_officer(), officer(agency="DINKES", areas=["31.74"])):
        with pytest.raises(JakiError) as caught:
            transitions.transition(outsider, lamp.id, "verified", expected_version=lamp.version)
        assert caught.value.status == 403
    assert transitions.transition(dbm, lamp.id, "verified", expected_version=lamp.version).status == "verified"
    with pytest.raises(JakiError):
        transitions.transition(dbm, road.id, "verified", expected_version=road.version)
    # The kelurahan unit's queue holds the road report to verify, not the street light.
    lurah = kelurahan_officer()
    queue = [r["id"] for r in client.get("/api/v1/officer/reports", headers=auth_header(lurah)).json["items"]]
    assert road.id in queue and lamp.id not in queue
    invalid = client.patch(
        "/api/v1/report-categories/lampu_jalan", json={"verified_by": "camat"}, headers=auth_header(boss)
    )
    assert invalid.status_code == 422
