"""Permits and letters per type (decided within SLA, median working days), and the command-center role itself."""

from datetime import UTC, datetime

from jaki.agencies.registry import upsert_registry
from jaki.auth.models import User
from jaki.extensions import db
from jaki.services.permits.models import Application, ApplicationEvent
from jaki.services.permits.types import upsert_types
from jaki.timezone import WIB
from tests.factories import PASSWORD, auth_header, make_nik, make_user


def _wib(*args) -> datetime:
    return datetime(*args, tzinfo=WIB).astimezone(UTC)


def _application(applicant, type_code, status, submitted, decided=None, due=None, pauses=()):
    kind = "letter" if type_code in ("SKD", "SKTM") else "permit"
    app = Application(
        reference=f"{type_code}-{submitted:%Y%m%d%H%M}-{status[:3]}-{len(pauses)}",
        kind=kind,
        type_code=type_code,
        applicant_id=applicant.id,
        area_code="31.74.05.1002",
        status=status,
        submitted_at=submitted,
        decided_at=decided,
        sla_due_at=due,
    )
    db.session.add(app)
    db.session.flush()
    for paused, resumed in pauses:
        for at, moved in (
            (paused, ("in_review", "revision_requested")),
            (resumed, ("revision_requested", "in_review")),
        ):
            db.session.add(ApplicationEvent(application_id=app.id, at=at, from_status=moved[0], to_status=moved[1]))
    db.session.flush()
    return app


def test_permits_and_letters_per_type(client, ctx):
    upsert_registry(db.session)
    upsert_types(db.session)
    person = make_user()
    # Monday 2026-11-02 09:00 WIB. KRK (SLA 5 working days): decided Friday (4 working days); decided the next
    # Wednesday after a pause covering the office hours of Tuesday 3 and Wednesday 4 (7 - 2 = 5); rejected late
    # (10); withdrawn (not decided); pending.
    monday = _wib(2026, 11, 2, 9)
    _application(person, "KRK", "issued", monday, _wib(2026, 11, 6, 15), _wib(2026, 11, 9, 23, 59))
    _application(
        person,
        "KRK",
        "issued",
        monday,
        _wib(2026, 11, 11, 10),
        _wib(2026, 11, 10, 23, 59),
        pauses=[(_wib(2026, 11, 3, 7, 59), _wib(2026, 11, 4, 16, 1))],
    )
    _application(person, "KRK", "rejected", monday, _wib(2026, 11, 16, 10), _wib(2026, 11, 9, 23, 59))
    _application(person, "KRK", "withdrawn", monday, _wib(2026, 11, 3, 10), _wib(2026, 11, 9, 23, 59))
    _application(person, "KRK", "in_review", monday, None, _wib(2026, 11, 9, 23, 59))
    # A letter (SKD, 1 working day): decided the same day.
    _application(person, "SKD", "issued", monday, _wib(2026, 11, 2, 14), _wib(2026, 11, 3, 23, 59))
    db.session.commit()
    watcher = make_user(role="command_center")
    body = client.get(
        "/api/v1/stats/applications",
        query_string={"since": "2026-11", "until": "2026-11"},
        headers=auth_header(watcher),
    ).json
    rows = {r["type_code"]: r for r in body["rows"]}
    krk = rows["KRK"]
    assert (krk["applications"], krk["decided"], krk["decided_within_sla"], krk["pending"], krk["withdrawn"]) == (
        5,
        3,
        1,
        1,
        1,
    )
    assert krk["within_sla_share"] == round(1 / 3, 4)
    # Working days: 4 (Fri 6th), 7 - 2 paused = 5 (Wed 11th), 10 (Mon 16th): the median is 5.
    assert krk["median_working_days"] == 5
    assert rows["SKD"]["median_working_days"] == 0 and rows["SKD"]["within_sla_share"] == 1.0
    assert rows["PBG"]["applications"] == 0 and rows["PBG"]["median_working_days"] is None
    assert body["total"]["applications"] == 6 and body["total"]["decided"] == 4
    letters = client.get(
        "/api/v1/stats/applications",
        query_string={"since": "2026-11", "until": "2026-11", "kind": "letter"},
        headers=auth_header(watcher),
    ).json
    assert {r["kind"] for r in letters["rows"]} == {"letter"}
    # An agency admin of DPMPTSP sees the permit types only.
    dpmptsp = make_user(role="agency_admin", agency_code="DPMPTSP")
    own = client.get(
        "/api/v1/stats/applications",
        query_string={"since": "2026-11", "until": "2026-11"},
        headers=auth_header(dpmptsp),
    ).json
    assert {r["agency_code"] for r in own["rows"]} == {"DPMPTSP"}


def test_an_admin_creates_a_command_center_account_over_the_api(client, ctx):
    admin = make_user(role="admin")
    nik = make_nik("317405")
    from jaki.auth import nik as nik_mod

    born = nik_mod.parse(nik).birth_date
    created = client.post(
        "/api/v1/admin/staff",
        json={
            "nik": nik,
            "full_name": "Pusat Komando",
            "birth_date": born.isoformat(),
            "phone": "081299990001",
            "password": PASSWORD,
            "role": "command_center",
        },
        headers=auth_header(admin),
    )
    assert created.status_code == 201, created.json
    assert created.json["role"] == "command_center" and created.json["agency_code"] is None
    login = client.post("/api/v1/auth/login", json={"nik": nik, "password": PASSWORD})
    assert login.status_code == 200
    token = {"Authorization": f"Bearer {login.json['access_token']}"}
    assert client.get("/api/v1/stats/summary", headers=token).status_code == 200
    # It watches; it does not work reports or administer.
    assert client.get("/api/v1/officer/reports", headers=token).status_code == 403
    assert client.get("/api/v1/admin/audit", headers=token).status_code == 403
    refused = client.post(
        "/api/v1/admin/staff",
        json={
            "nik": make_nik("317405"),
            "full_name": "Tidak Boleh",
            "birth_date": born.isoformat(),
            "phone": "081299990002",
            "password": PASSWORD,
            "role": "command_center",
        },
        headers=auth_header(db.session.get(User, created.json["id"])),
    )
    assert refused.status_code == 403


def test_flask_users_create_staff_makes_a_command_center_account(app, ctx):
    upsert_registry(db.session)
    db.session.commit()
    nik = make_nik("317405")
    from jaki.auth import nik as nik_mod

    born = nik_mod.parse(nik).birth_date
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create-staff",
            "--nik",
            nik,
            "--name",
            "Ruang Kendali",
            "--birth-date",
            born.isoformat(),
            "--phone",
            "081299990003",
            "--role",
            "command_center",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created command_center ")
