"""Two officers editing at once: ETag / If-Match, a version-conditional UPDATE, and a real two-connection race."""

import os
import threading

import pytest
from sqlalchemy import delete, event, select, text
from sqlalchemy.exc import DBAPIError

from jaki import idempotency
from jaki.agencies.models import Agency
from jaki.auth.models import User
from jaki.errors import PreconditionFailed
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.reports import operations, transitions, versions
from jaki.reports.models import Category, Report, ReportMapTile
from tests.factories import auth_header, ensure_agency, make_user
from tests.reports.factories import agency_admin, citizen, kelurahan_officer, make_report, officer

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def test_if_match_is_required_and_must_be_current(client, ctx):
    report = make_report()
    first, second = kelurahan_officer(), kelurahan_officer()  # verification is the kelurahan unit's
    url = f"/api/v1/reports/{report.id}/transitions"
    etag = client.get(f"/api/v1/reports/{report.id}").headers["ETag"]
    # Issue 12: the public GET tags its exact representation ("<version>-<digest>", so languages differ); the
    # version If-Match checks is its first part.
    assert etag.startswith(f'"{report.version}-') and versions.parse_if_match(etag) == report.version

    missing = client.post(url, json={"to": "verified"}, headers=auth_header(first))
    assert missing.status_code == 428 and missing.json["code"] == "precondition_required"
    for odd in ("*", '"²"', '"99999999999999999999"', "garbage"):
        response = client.post(url, json={"to": "verified"}, headers={**auth_header(first), "If-Match": odd})
        assert response.status_code == 412, odd

    ok = client.post(url, json={"to": "verified"}, headers={**auth_header(first), "If-Match": etag})
    assert ok.status_code == 200 and ok.headers["ETag"] != etag
    # The second officer still holds the old ETag: refused, told the current one, nothing overwritten.
    stale = client.post(
        url, json={"to": "rejected", "reason": "Bukan jalan kota"}, headers={**auth_header(second), "If-Match": etag}
    )
    assert stale.status_code == 412 and stale.json["code"] == "precondition_failed"
    assert stale.headers["ETag"] == ok.headers["ETag"]
    assert db.session.get(Report, report.id).status == "verified"
    weak = client.post(
        url,
        json={"to": "rejected", "reason": "Bukan jalan kota"},
        headers={**auth_header(second), "If-Match": "W/" + ok.headers["ETag"]},
    )
    assert weak.status_code == 200


def test_supporting_or_commenting_does_not_invalidate_an_officers_etag(client, ctx):
    report = make_report()
    etag = client.get(f"/api/v1/reports/{report.id}").headers["ETag"]
    client.post(f"/api/v1/reports/{report.id}/support", headers=auth_header(citizen()))
    client.post(f"/api/v1/reports/{report.id}/comments", json={"body": "Mohon segera"}, headers=auth_header(citizen()))
    response = client.post(
        f"/api/v1/reports/{report.id}/transitions",
        json={"to": "verified"},
        headers={**auth_header(kelurahan_officer()), "If-Match": etag},
    )
    assert response.status_code == 200


def test_the_update_itself_is_conditional_on_the_version(app, ctx):
    report = make_report()
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE REPORTS"):
            statements.append(statement)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        transitions.transition(kelurahan_officer(), report.id, "verified", expected_version=report.version)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(statements) == 1
    assert "reports.version = " in statements[0].split("WHERE", 1)[1]


@pytest.mark.parametrize("change", ["transition", "claim", "transfer", "assign"])
def test_a_lost_race_inside_one_process_is_412_not_an_overwrite(ctx, change):
    """The version read is stale by the time of the UPDATE (another writer committed in between)."""
    status = "dispatched" if change == "assign" else "verified"
    report = make_report(status=status)
    version = report.version
    worker = officer()
    boss = agency_admin()
    calls = {
        "transition": lambda: transitions.transition(worker, report.id, "dispatched", expected_version=version),
        "claim": lambda: transitions.claim(worker, report.id, expected_version=version),
        "transfer": lambda: transitions.transfer(
            worker, report.id, expected_version=version, reason="Salah dinas", agency_code="DSDA"
        ),
        "assign": lambda: transitions.assign(boss, report.id, worker.id, expected_version=version),
    }
    ensure_agency("DSDA")
    # Behind the ORM's back, as another process would: the loaded object still says `version`.
    db.session.execute(Report.__table__.update().where(Report.id == report.id).values(version=version + 1))
    with pytest.raises(PreconditionFailed):
        calls[change]()
    db.session.expire_all()
    stored = db.session.get(Report, report.id)
    assert (stored.status, stored.assigned_officer_id) == (status, None)


@pytest.fixture
def committed(app):
    """Data committed for real (two connections must see it), deleted afterwards."""
    made = {"users": [], "reports": [], "agencies": [], "category": None}
    with app.app_context():
        for code in ("DBM", "KELURAHAN"):
            if db.session.get(Agency, code) is None:
                ensure_agency(code)
                made["agencies"].append(code)
        db.session.add(
            Category(
                code="race_test",
                name="Uji balapan",
                name_en="Race test",
                agency_code="DBM",
                sla_hours=24,
                duplicate_radius_m=0,
            )
        )
        made["category"] = "race_test"
        db.session.commit()
    yield made
    with app.app_context():
        ids = made["reports"]
        db.session.execute(delete(OutboxEvent).where(OutboxEvent.aggregate_id.in_(ids)))
        db.session.execute(delete(Report).where(Report.id.in_(ids)))
        db.session.execute(delete(User).where(User.id.in_(made["users"])))
        principals = [f"user:{user_id}" for user_id in made["users"]]
        db.session.execute(
            delete(idempotency.IdempotencyRecord).where(idempotency.IdempotencyRecord.principal.in_(principals))
        )
        db.session.execute(delete(Category).where(Category.code == "race_test"))
        if made["agencies"]:
            db.session.execute(delete(Agency).where(Agency.code.in_(made["agencies"])))
        db.session.commit()
        db.session.remove()


@pytest.mark.skipif(not ON_POSTGRES, reason="a real two-connection race runs on PostgreSQL (SQLite serialises writers)")
def test_two_connections_race_and_exactly_one_wins(app, committed, monkeypatch):
    with app.app_context():
        reporter = make_user()
        # Two officers of Pondok Pinang's kelurahan unit (verification is theirs).
        officers = [make_user(role="officer", agency_code="KELURAHAN", areas=["31.74.05.1002"]) for _ in range(2)]
        created = operations.create_report(
            reporter,
            category_code="race_test",
            description="Uji dua petugas",
            latitude=-6.2710,
            longitude=106.7770,
            enforce_quota=False,
        )
        report_id, version = created.report.id, created.report.version
        headers = [auth_header(o) for o in officers]
        committed["users"] += [reporter.id] + [o.id for o in officers]
        committed["reports"].append(report_id)
        db.session.commit()
        db.session.remove()

    # Both requests read the report before either writes: each passes its If-Match check, and only the
    # database's conditional UPDATE can tell them apart.
    barrier = threading.Barrier(2, timeout=20)
    original_load = transitions.load_report

    def load_then_wait(rid):
        report = original_load(rid)
        barrier.wait()
        return report

    monkeypatch.setattr(transitions, "load_report", load_then_wait)
    results = {}

    def act(n, to_status, body):
        client = app.test_client()
        response = client.post(
            f"/api/v1/reports/{report_id}/transitions",
            json={"to": to_status, **body},
            headers={**headers[n], "If-Match": f'"{version}"'},
        )
        results[n] = response.status_code

    threads = [
        threading.Thread(target=act, args=(0, "verified", {})),
        threading.Thread(target=act, args=(1, "rejected", {"reason": "Bukan jalan kota"})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) == [200, 412]
    with app.app_context():
        stored = db.session.get(Report, report_id)
        winner = 0 if results[0] == 200 else 1
        assert stored.status == ("verified", "rejected")[winner] and stored.version == version + 1
        changes = db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.aggregate_id == report_id, OutboxEvent.type == "report.status_changed"
            )
        ).all()
        assert len(changes) == 1  # the loser's event was rolled back with its change
        db.session.remove()


@pytest.mark.skipif(not ON_POSTGRES, reason="a real two-connection race runs on PostgreSQL (SQLite serialises writers)")
def test_two_simultaneous_uploads_with_one_idempotency_key_make_one_report(app, committed, monkeypatch):
    with app.app_context():
        reporter = make_user()
        header = auth_header(reporter)
        committed["users"].append(reporter.id)
        db.session.commit()
        reporter_id = reporter.id
        db.session.remove()

    # Both requests insert the key at the same moment: the unique constraint has to decide, the loser's insert
    # waits for the winner's commit and finds its row, then waits for the winner's answer (jaki.idempotency, the
    # one mechanism every create uses).
    barrier = threading.Barrier(2, timeout=20)
    original_insert = idempotency.insert_key
    calls = {"n": 0}
    lock = threading.Lock()

    def insert_together(*args):
        with lock:
            calls["n"] += 1
            first_two = calls["n"] <= 2
        if first_two:
            barrier.wait()
        return original_insert(*args)

    monkeypatch.setattr(idempotency, "insert_key", insert_together)
    results = {}

    def upload(n):
        response = app.test_client().post(
            "/api/v1/reports",
            headers={**header, "Idempotency-Key": "race-key-0001"},
            data={
                "category": "race_test",
                "description": "Jalan berlubang",
                "latitude": "-6.2710",
                "longitude": "106.7770",
            },
        )
        results[n] = (response.status_code, response.get_json().get("id"))

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    with app.app_context():
        ids = db.session.scalars(select(Report.id).where(Report.reporter_id == reporter_id)).all()
        committed["reports"] += list(ids)
        db.session.remove()
    assert calls["n"] == 2  # both inserted: one made the row, the other met it and then only read it
    assert [status for status, _ in results.values()] == [201, 201]
    assert len({rid for _, rid in results.values()}) == 1 and len(ids) == 1


def _two_reports(committed, statuses=("submitted", "verified")) -> list[str]:
    """Reports of one category in one tile, committed (two connections must see them)."""
    reporter = make_user()
    committed["users"].append(reporter.id)
    ids = []
    for status in statuses:
        report = operations.create_report(
            reporter,
            category_code="race_test",
            description="Uji peta",
            latitude=-6.2710,
            longitude=106.7770,
            enforce_quota=False,
            force=True,
        ).report
        report.status = status
        ids.append(report.id)
    committed["reports"] += ids
    db.session.commit()
    return ids


def _tile_counts() -> dict:
    return dict(
        db.session.execute(
            select(ReportMapTile.status, ReportMapTile.count).where(
                ReportMapTile.category_code == "race_test", ReportMapTile.level == 8, ReportMapTile.count != 0
            )
        ).all()
    )


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks between two connections are PostgreSQL's")
def test_an_open_transaction_with_a_new_report_does_not_block_others_in_its_tile(app, committed):
    """The tile triggers run at commit: one citizen's upload still in flight (its report inserted, its photos
    going to object storage) holds no lock another report of the same category and tile would wait for."""
    with app.app_context():
        ids = _two_reports(committed, statuses=("submitted",))
        slow = db.engine.connect()
        slow.execute(text("UPDATE reports SET status = 'verified' WHERE id = :id"), {"id": ids[0]})
        db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
        other = operations.create_report(
            make_user(),
            category_code="race_test",
            description="Uji peta kedua",
            latitude=-6.2712,
            longitude=106.7772,
            enforce_quota=False,
            force=True,
        )
        committed["users"].append(other.report.reporter_id)
        committed["reports"].append(other.report.id)
        db.session.commit()  # would wait (and time out) if `slow` held the tile rows
        assert _tile_counts() == {"submitted": 2}  # `slow` has not committed: its move is not counted yet
        slow.commit()
        assert _tile_counts() == {"submitted": 1, "verified": 1}
        slow.close()
        db.session.remove()


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks between two connections are PostgreSQL's")
def test_opposite_moves_of_map_tile_counts_commit_together_without_deadlock(app, committed):
    """Two transactions moving reports of one tile between two statuses in opposite directions, committing at
    once: each commit locks the count rows in key order, so one waits for the other instead of deadlocking."""
    with app.app_context():
        ids = _two_reports(committed)
        first, second = db.engine.connect(), db.engine.connect()
        first.execute(text("UPDATE reports SET status = 'verified' WHERE id = :id"), {"id": ids[0]})
        second.execute(text("UPDATE reports SET status = 'submitted' WHERE id = :id"), {"id": ids[1]})
        barrier = threading.Barrier(2, timeout=20)
        errors = []

        def commit(connection):
            try:
                connection.execute(text("SET lock_timeout = '10s'"))
                barrier.wait()
                connection.commit()
            except DBAPIError as exc:  # a deadlock or lock timeout would surface here
                errors.append(exc)

        threads = [threading.Thread(target=commit, args=(c,)) for c in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        first.close()
        second.close()
        assert not errors and not any(t.is_alive() for t in threads)
        assert _tile_counts() == {"submitted": 1, "verified": 1}
        db.session.remove()
