"""Permit and letter deadlines in working days: weekends, national holidays and cuti bersama off; pauses too."""

from datetime import UTC, date, datetime

import pytest

from jaki.services.permits import operations
from jaki.services.permits.models import Application
from jaki.services.permits.sla import add_working_days, extend_for_pause, is_working_day, working_days_paused
from jaki.timezone import WIB, jakarta_today
from tests.factories import auth_header, make_user
from tests.services.conftest import staff
from tests.services.test_permits import SLF_REQUIRED, _move, _new_slf, _upload, storage  # noqa: F401


def wib(*args) -> datetime:
    return datetime(*args, tzinfo=WIB)


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=WIB).astimezone(UTC)


def test_national_holidays_and_cuti_bersama_are_not_working_days():
    assert not is_working_day(date(2026, 12, 25))  # Natal
    assert not is_working_day(date(2026, 12, 24))  # cuti bersama Natal
    assert not is_working_day(date(2026, 8, 17))  # Hari Kemerdekaan, a Monday
    assert is_working_day(date(2026, 12, 23))
    # Tuesday 22 December + 3 working days: 23, (24 and 25 off, then the weekend) 28, 29.
    assert add_working_days(wib(2026, 12, 22, 10, 0), 3) == end_of(date(2026, 12, 29))
    # Lebaran 2026: Nyepi on the 19th, Idulfitri on the 21st-22nd, cuti bersama 18, 20, 23 and 24 March.
    assert add_working_days(wib(2026, 3, 17, 10, 0), 1) == end_of(date(2026, 3, 25))
    # The admin's table overrides the library both ways.
    assert add_working_days(wib(2026, 12, 22, 10, 0), 1, {date(2026, 12, 23): "holiday"}) == end_of(date(2026, 12, 28))
    assert add_working_days(wib(2026, 12, 23, 10, 0), 1, {date(2026, 12, 24): "workday"}) == end_of(date(2026, 12, 24))


def test_a_pause_gives_back_only_the_working_days_it_took_whole():
    monday_due = end_of(date(2026, 12, 7))
    # Friday 17:00 to Monday 09:00: the office lost no working day (it used to move the deadline to Thursday).
    assert working_days_paused(wib(2026, 12, 4, 17, 0), wib(2026, 12, 7, 9, 0)) == 0
    assert extend_for_pause(monday_due, wib(2026, 12, 4, 17, 0), wib(2026, 12, 7, 9, 0)) == monday_due
    # Over Christmas: Wednesday evening to Monday morning, two days off and a weekend inside.
    assert working_days_paused(wib(2026, 12, 23, 17, 0), wib(2026, 12, 28, 9, 0)) == 0
    # Tuesday 10:00 to Thursday 09:00: Wednesday was lost whole; Tuesday and Thursday were partly worked.
    assert working_days_paused(wib(2026, 12, 1, 10, 0), wib(2026, 12, 3, 9, 0)) == 1
    assert extend_for_pause(monday_due, wib(2026, 12, 1, 10, 0), wib(2026, 12, 3, 9, 0)) == end_of(date(2026, 12, 8))
    # A whole week away, Monday 07:00 to the next Monday 18:00: six working days.
    assert working_days_paused(wib(2026, 11, 30, 7, 0), wib(2026, 12, 7, 18, 0)) == 6


def test_jakarta_today_is_the_wib_date():
    assert jakarta_today(datetime(2026, 12, 1, 18, 30, tzinfo=UTC)) == date(2026, 12, 2)  # 01:30 WIB
    assert jakarta_today(datetime(2026, 12, 1, 16, 59, tzinfo=UTC)) == date(2026, 12, 1)


@pytest.fixture
def clock(monkeypatch):
    """The permits workflow's clock, set by the test (the database is real; only "now" is chosen)."""
    state = {}
    monkeypatch.setattr(operations, "utcnow", lambda: state["now"].astimezone(UTC))

    def at(*args):
        state["now"] = wib(*args)

    return at


def _submitted_slf(client, demo, clock, *when):
    clock(*when)
    application = _new_slf(client, demo.ahmad)
    for kind in SLF_REQUIRED:
        assert _upload(client, demo.ahmad, "permits", application["id"], kind).status_code == 201
    submitted = client.post(f"/api/v1/me/permits/{application['id']}/submit", headers=auth_header(demo.ahmad))
    assert submitted.status_code == 200, submitted.json
    assert _move(client, staff("DPMPTSP"), "permits", application["id"], "in_verification").status_code == 200
    return submitted.json


def _pause_and_resume(client, demo, clock, application_id, paused, resumed):
    clock(*paused)
    note = "Laporan pemeriksaan belum ditandatangani."
    revision = _move(client, staff("DPMPTSP"), "permits", application_id, "revision_requested", note=note)
    assert revision.status_code == 200 and revision.json["sla_paused"] is True
    clock(*resumed)
    replaced = _upload(client, demo.ahmad, "permits", application_id, "laporan_pemeriksaan")
    assert replaced.status_code == 201
    again = client.post(f"/api/v1/me/permits/{application_id}/submit", headers=auth_header(demo.ahmad))
    assert again.status_code == 200 and again.json["sla_paused"] is False
    return datetime.fromisoformat(again.json["sla_due_at"])


def test_a_permit_paused_over_a_weekend_keeps_its_deadline(client, demo, storage, clock):  # noqa: F811
    submitted = _submitted_slf(client, demo, clock, 2026, 11, 23, 9, 0)  # Monday
    due = datetime.fromisoformat(submitted["sla_due_at"])
    assert due == end_of(date(2026, 12, 7))  # 10 working days: the Monday two weeks on
    after = _pause_and_resume(client, demo, clock, submitted["id"], (2026, 12, 4, 17, 0), (2026, 12, 7, 9, 0))
    assert after == due  # not Thursday 10 December, as 64 clock hours made it


def test_a_permit_paused_over_christmas_keeps_its_deadline_and_the_holidays_count(client, demo, storage, clock):  # noqa: F811
    submitted = _submitted_slf(client, demo, clock, 2026, 12, 10, 9, 0)  # Thursday
    due = datetime.fromisoformat(submitted["sla_due_at"])
    # 11, 14-18, 21-23, then 24-27 off (cuti bersama, Natal, weekend): Monday 28 December.
    assert due == end_of(date(2026, 12, 28))
    after = _pause_and_resume(client, demo, clock, submitted["id"], (2026, 12, 23, 17, 0), (2026, 12, 28, 9, 0))
    assert after == due


def test_a_pause_over_working_days_moves_the_deadline_by_those_days(client, demo, storage, clock):  # noqa: F811
    submitted = _submitted_slf(client, demo, clock, 2026, 11, 23, 9, 0)
    after = _pause_and_resume(client, demo, clock, submitted["id"], (2026, 12, 1, 10, 0), (2026, 12, 3, 9, 0))
    assert after == end_of(date(2026, 12, 8))  # Wednesday 2 December was the applicant's: one day more
    from jaki.extensions import db

    assert db.session.get(Application, submitted["id"]).sla_paused_at is None


def test_admins_extend_the_calendar_and_deadlines_follow(client, demo, storage, clock):  # noqa: F811
    admin = make_user(role="admin")
    url = "/api/v1/admin/service-calendar"
    year = client.get(f"{url}?year=2026", headers=auth_header(admin))
    assert year.status_code == 200
    by_day = {d["day"]: d for d in year.json}
    assert by_day["2026-12-24"] == {
        "day": "2026-12-24",
        "kind": "holiday",
        "name": "Cuti Bersama Hari Raya Natal",
        "source": "library",
    }
    assert by_day["2026-08-17"]["name"] == "Hari Kemerdekaan Republik Indonesia"

    # A cuti bersama the library does not know (announced late): deadlines skip it from now on.
    added = client.put(
        f"{url}/2026-12-01", json={"kind": "holiday", "name": "Cuti bersama (uji)"}, headers=auth_header(admin)
    )
    assert added.status_code == 200 and added.json["source"] == "admin"
    submitted = _submitted_slf(client, demo, clock, 2026, 11, 23, 9, 0)
    assert datetime.fromisoformat(submitted["sla_due_at"]) == end_of(date(2026, 12, 8))  # one day later
    listed = {d["day"]: d for d in client.get(f"{url}?year=2026", headers=auth_header(admin)).json}
    assert listed["2026-12-01"]["source"] == "admin"
    # A library day off the offices work after all.
    worked = client.put(
        f"{url}/2026-12-24", json={"kind": "workday", "name": "Cuti bersama dibatalkan"}, headers=auth_header(admin)
    )
    assert worked.status_code == 200
    assert client.delete(f"{url}/2026-12-01", headers=auth_header(admin)).status_code == 204
    assert client.delete(f"{url}/2026-12-01", headers=auth_header(admin)).status_code == 404

    assert client.get(f"{url}?year=2026", headers=auth_header(staff("DPMPTSP"))).status_code == 403
    bad = client.put(f"{url}/2026-13-01", json={"kind": "holiday", "name": "Salah"}, headers=auth_header(admin))
    assert bad.status_code == 422 and "day" in bad.json["errors"]
    assert (
        client.put(f"{url}/2026-12-02", json={"kind": "libur", "name": "x" * 5}, headers=auth_header(admin)).status_code
        == 422
    )


def test_a_letter_submitted_before_a_holiday_is_due_after_it_and_a_weekend_pause_keeps_it(
    client,
    demo,
    storage,  # noqa: F811
    clock,
):
    siti = demo.siti
    clock(2026, 12, 23, 9, 0)  # Wednesday before Christmas: 24 and 25 off, then the weekend
    letter = client.post(
        "/api/v1/me/letters", json={"type_code": "SKD", "purpose": "Membuka rekening bank"}, headers=auth_header(siti)
    ).json
    for kind in ("ktp", "kk", "pengantar_rtrw"):
        assert _upload(client, siti, "letters", letter["id"], kind).status_code == 201
    submitted = client.post(f"/api/v1/me/letters/{letter['id']}/submit", headers=auth_header(siti)).json
    due = datetime.fromisoformat(submitted["sla_due_at"])
    assert due == end_of(date(2026, 12, 28))  # one working day: Monday, not Thursday the 24th
    lurah = staff("KELURAHAN")
    assert _move(client, lurah, "letters", letter["id"], "in_process").status_code == 200
    clock(2026, 12, 23, 17, 30)
    paused = _move(client, lurah, "letters", letter["id"], "revision_requested", note="Pengantar RT belum distempel.")
    assert paused.status_code == 200
    clock(2026, 12, 28, 8, 30)
    assert _upload(client, siti, "letters", letter["id"], "pengantar_rtrw").status_code == 201
    again = client.post(f"/api/v1/me/letters/{letter['id']}/submit", headers=auth_header(siti)).json
    assert again["status"] == "in_process" and datetime.fromisoformat(again["sla_due_at"]) == due
