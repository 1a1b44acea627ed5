"""The agency registry: 52 offices of the Pemprov, their integration, the public count and the admin view."""

from jaki.agencies.models import Agency
from jaki.agencies.registry import AGENCIES, upsert_registry
from jaki.extensions import db
from tests.factories import auth_header, ensure_agency, make_user

DEMO_CODES = (
    "DBM",
    "DSDA",
    "DLH",
    "DPHK",
    "DISHUB",
    "DINKES",
    "DISDIK",
    "DINSOS",
    "BAPENDA",
    "DPMPTSP",
    "DCKTRP",
    "DUKCAPIL",
    "SATPOLPP",
    "DPE",
    "BPBD",
)


def test_registry_lists_52_offices_and_keeps_the_demo_codes(ctx):
    assert len(AGENCIES) == 52 and len({a[0] for a in AGENCIES}) == 52
    assert len({a[1] for a in AGENCIES}) == 52
    assert set(DEMO_CODES) <= {a[0] for a in AGENCIES}
    kinds = {a[3] for a in AGENCIES}
    assert {"dinas", "badan", "biro", "satpol", "inspektorat", "sekretariat"} <= kinds


def test_upsert_is_idempotent_and_keeps_existing_rows(ctx):
    existing = ensure_agency("DBM", "Dinas Bina Marga")
    # 52 + 2 wilayah offices + 7 external bodies (issue 15), DBM already there
    assert upsert_registry(db.session) == 60
    assert upsert_registry(db.session) == 0
    assert existing.kind == "dinas" and db.session.get(Agency, "DINKES").domains == ["health"]
    assert db.session.get(Agency, "KELURAHAN").kind == "wilayah"
    assert {a.code for a in db.session.query(Agency).filter(Agency.kind == "external")} == {
        "PAMJAYA",
        "PLN-UIDJAYA",
        "PELINDO",
        "TRANSJAKARTA",
        "KAI",
        "PPKGBK",
        "BBPJN-JKT",
    }


def test_public_integration_count(client, ctx):
    upsert_registry(db.session)
    response = client.get("/api/v1/agencies/integration")
    assert response.status_code == 200
    body = response.json
    assert (body["total"], body["integrated"], body["not_integrated"]) == (52, 40, 12)
    assert body["by_kind"]["biro"] == {"total": 9, "integrated": 4}
    listing = client.get("/api/v1/agencies").json
    assert len(listing) == 61  # and 7 bodies outside the Pemprov (kind external, issue 15)
    assert set(listing[0]) == {"code", "name", "short_name", "kind", "domains", "integrated"}


def test_admin_detail_says_which_connector_and_nobody_else_sees_it(client, ctx):
    upsert_registry(db.session)
    admin = make_user(role="admin")
    detail = client.get("/api/v1/admin/agencies/DINKES", headers=auth_header(admin))
    assert detail.status_code == 200
    assert detail.json["connector"] == "local" and detail.json["domains_served"] == ["health"]
    assert detail.json["health"]["state"] == "local"
    unconnected = client.get("/api/v1/admin/agencies/DISBUD", headers=auth_header(admin)).json
    assert unconnected["connector"] is None and unconnected["integrated"] is False
    assert client.get("/api/v1/admin/agencies/NOPE", headers=auth_header(admin)).status_code == 404
    for role in ("citizen", "officer", "agency_admin"):
        user = make_user(role=role, agency_code="DINKES" if role != "citizen" else None)
        assert client.get("/api/v1/admin/agencies", headers=auth_header(user)).status_code == 403
    assert client.get("/api/v1/admin/agencies").status_code == 401


def test_admin_resets_a_breaker(client, ctx, settings):
    from jaki.clients import agencies as agency_clients

    upsert_registry(db.session)
    settings(AGENCY_BAPENDA_URL="http://127.0.0.1:9", AGENCY_BREAKER_FAILURES=1)
    admin = make_user(role="admin")
    agency_clients.breaker_for("BAPENDA").record_failure()
    assert client.get("/api/v1/admin/agencies/BAPENDA", headers=auth_header(admin)).json["health"]["state"] == "open"
    reset = client.post("/api/v1/admin/agencies/BAPENDA/breaker/reset", headers=auth_header(admin))
    assert reset.status_code == 200 and reset.json["health"]["state"] == "closed"
