"""Categories (agency, SLA, duplicate radius) edited by admins; the category and demo seeders."""

from sqlalchemy import func, select

from jaki.extensions import db
from jaki.reports import demo
from jaki.reports.models import Category, Report
from tests.factories import auth_header, ensure_agency
from tests.reports.factories import admin, citizen, officer, seed_categories


def test_public_list_of_active_categories(client, ctx):
    seed_categories()
    db.session.get(Category, "pkl_liar").active = False
    db.session.commit()
    body = client.get("/api/v1/report-categories").json
    codes = [c["code"] for c in body]
    assert codes[:3] == ["jalan_rusak", "banjir", "sampah"] and "pkl_liar" not in codes
    road = body[0]
    assert (road["name"], road["agency_code"], road["sla_hours"], road["duplicate_radius_m"]) == (
        "Jalan rusak",
        "DBM",
        72,
        50,
    )
    english = client.get("/api/v1/report-categories", headers={"Accept-Language": "en"}).json
    assert english[0]["name"] == "Damaged road"


def test_admins_add_and_edit_categories_others_cannot(client, ctx):
    seed_categories()
    ensure_agency("BPBD", "Badan Penanggulangan Bencana Daerah")
    body = {
        "code": "tanah_longsor",
        "name": "Tanah longsor",
        "name_en": "Landslide",
        "agency_code": "BPBD",
        "sla_hours": 4,
        "duplicate_radius_m": 200,
    }
    for user in (citizen(), officer()):
        assert client.post("/api/v1/report-categories", json=body, headers=auth_header(user)).status_code == 403
    boss = admin()
    created = client.post("/api/v1/report-categories", json=body, headers=auth_header(boss))
    assert created.status_code == 201 and created.json["agency_code"] == "BPBD"
    again = client.post("/api/v1/report-categories", json=body, headers=auth_header(boss))
    assert again.status_code == 409 and again.json["code"] == "category_exists"
    unknown = client.post(
        "/api/v1/report-categories", json={**body, "code": "x_y", "agency_code": "NOPE"}, headers=auth_header(boss)
    )
    assert unknown.status_code == 422 and unknown.json["code"] == "agency_unknown"
    for bad in ({"sla_hours": 0}, {"duplicate_radius_m": 5000}, {"code": "Bad Code!"}):
        assert (
            client.post("/api/v1/report-categories", json={**body, **bad}, headers=auth_header(boss)).status_code == 422
        ), bad

    patched = client.patch(
        "/api/v1/report-categories/sampah", json={"sla_hours": 12, "agency_code": "BPBD"}, headers=auth_header(boss)
    )
    assert patched.status_code == 200 and (patched.json["sla_hours"], patched.json["agency_code"]) == (12, "BPBD")
    assert (
        client.patch("/api/v1/report-categories/sampah", json={"code": "lain"}, headers=auth_header(boss)).status_code
        == 422
    )
    assert (
        client.patch(
            "/api/v1/report-categories/tidak_ada", json={"sla_hours": 1}, headers=auth_header(boss)
        ).status_code
        == 404
    )
    assert (
        client.patch(
            "/api/v1/report-categories/sampah", json={"sla_hours": 1}, headers=auth_header(officer())
        ).status_code
        == 403
    )


def test_category_seeder_is_idempotent_and_keeps_admin_edits(ctx):
    seed_categories()
    db.session.get(Category, "banjir").sla_hours = 3
    db.session.commit()
    seed_categories()
    assert db.session.scalar(select(func.count()).select_from(Category)) == len(demo.CATEGORIES)
    assert db.session.get(Category, "banjir").sla_hours == 3


def test_demo_seeder_makes_reports_in_various_statuses_once(app, ctx):
    from jaki.demo import seed_demo

    seed_demo()
    statuses = dict(
        db.session.execute(
            select(Report.status, func.count()).where(Report.source == "demo").group_by(Report.status)
        ).all()
    )
    assert sum(statuses.values()) == demo.DEMO_COUNT
    assert {"submitted", "verified", "dispatched", "in_progress", "resolved", "closed", "rejected"} <= set(statuses)
    assert (
        db.session.scalar(
            select(func.count()).select_from(Report).where(Report.source == "demo", Report.kelurahan_code.is_(None))
        )
        == 0
    )
    seed_demo()
    assert db.session.scalar(select(func.count()).select_from(Report).where(Report.source == "demo")) == demo.DEMO_COUNT
