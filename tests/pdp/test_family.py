"""Family: both parents in the Kartu Keluarga see their minor children; a child of 18 or more sees only themselves."""

from __future__ import annotations

from datetime import date

from tests.factories import auth_header, make_user
from tests.services.conftest import staff


def _names(client, user) -> list[str]:
    return [m["full_name"] for m in client.get("/api/v1/me/household", headers=auth_header(user)).json["members"]]


def test_both_parents_see_their_children_and_their_childrens_access_log(client, demo):
    budi = make_user(full_name="Budi Santoso", born=date(1988, 3, 12), nik=demo.niks["Budi"], kk="3174050102100011")
    children = ["Rizky Santoso", "Aisyah Putri Santoso"]
    assert _names(client, demo.siti)[1:] == children
    assert _names(client, budi)[1:] == children
    lookup = client.post(
        "/api/v1/officer/services/health/lookup",
        json={"nik": demo.niks["Rizky"], "reason": "Jadwal imunisasi anak"},
        headers=auth_header(staff("DINKES")),
    )
    assert lookup.status_code == 200 and lookup.json["has_account"] is False
    for parent in (demo.siti, budi):
        log = client.get("/api/v1/me/access-log", headers=auth_header(parent)).json["items"]
        assert [(e["member"] or {}).get("full_name") for e in log] == ["Rizky Santoso"]


def test_a_child_of_18_or_more_sees_only_themselves(client, demo):
    nur = make_user(
        full_name="Nur Hidayah", born=date(2008, 2, 2), sex="F", nik=demo.niks["Nur"], kk="3174050102100012"
    )
    dewi = make_user(
        full_name="Dewi Lestari", born=date(1978, 11, 30), sex="F", nik=demo.niks["Dewi"], kk="3174050102100012"
    )
    assert _names(client, nur) == ["Nur Hidayah"]
    assert _names(client, dewi) == ["Dewi Lestari"]  # her daughter is an adult now
    assert _names(client, demo.ahmad) == ["Ahmad Fauzi"]
