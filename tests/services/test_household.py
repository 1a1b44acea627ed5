"""Household scoping: a head of family sees their children under 18; nobody sees another household."""

from datetime import date

from jaki.auth.crypto import cipher
from jaki.extensions import db
from jaki.services.household import household_for
from tests.factories import auth_header, make_resident, make_user


def _names(response) -> list[str]:
    return [m["full_name"] for m in response.json["members"]]


def test_head_of_family_sees_children_under_18_not_spouse(client, demo):
    response = client.get("/api/v1/me/household", headers=auth_header(demo.siti))
    assert response.status_code == 200
    assert response.json["is_head"] is True
    assert _names(response) == ["Siti Rahayu", "Rizky Santoso", "Aisyah Putri Santoso"]
    me, rizky = response.json["members"][0], response.json["members"][1]
    assert me["is_self"] is True and rizky["is_self"] is False and rizky["relation"] == "anak"
    assert rizky["nik_masked"].endswith(demo.niks["Rizky"][-4:]) and "*" in rizky["nik_masked"]
    body = response.get_data(as_text=True)
    for nik in demo.niks.values():
        assert nik not in body  # masked NIKs only


def test_adult_child_is_not_a_dependent(client, demo):
    response = client.get("/api/v1/me/household", headers=auth_header(demo.ahmad))
    # Nur Hidayah was born in 2008: an adult, with her own records to herself.
    assert _names(response) == ["Ahmad Fauzi"]
    assert response.json["is_head"] is True


def test_the_other_parent_sees_the_children_too(client, demo):
    # Issue 16: both parents in the Kartu Keluarga see their minor children, not only the head.
    budi = make_user(full_name="Budi Santoso", born=date(1988, 3, 12), nik=demo.niks["Budi"], kk="3174050102100011")
    response = client.get("/api/v1/me/household", headers=auth_header(budi))
    assert _names(response) == ["Budi Santoso", "Rizky Santoso", "Aisyah Putri Santoso"]
    assert response.json["is_head"] is False


def test_account_whose_household_disagrees_with_the_registry_sees_only_itself(ctx, demo):
    # Same NIK row says head of KK ...011, but the account was linked to another KK: no dependents.
    demo.siti.kk_index = cipher().blind_index("3174050102109999", "kk")
    db.session.flush()
    household = household_for(demo.siti)
    assert [m.full_name for m in household.visible] == ["Siti Rahayu"]


def test_head_without_registry_row_sees_only_themselves(client, ctx):
    user = make_user(kk="3174050102107777")
    make_resident(full_name="Anak Orang Lain", born=date(2015, 1, 1), sex="M", kk="3174050102107777", relation="anak")
    assert _names(client.get("/api/v1/me/household", headers=auth_header(user))) == ["Warga Jakarta"]


def test_household_needs_login(client, demo):
    response = client.get("/api/v1/me/household")
    assert response.status_code == 401 and response.json["code"] == "unauthorized"


def test_a_child_comes_of_age_at_midnight_in_jakarta(ctx, monkeypatch):
    """Ages are counted in WIB calendar days: at 01:00 WIB on her 18th birthday (still the day before in UTC) a
    daughter's records are her own."""
    from datetime import UTC, datetime

    from jaki.services import household as household_mod

    kk = "3174050102106666"
    nik, _ = make_resident(full_name="Ibu Kepala", born=date(1980, 5, 5), kk=kk)
    make_resident(full_name="Putri Dewasa", born=date(2008, 12, 2), sex="F", kk=kk, relation="anak")
    head = make_user(full_name="Ibu Kepala", born=date(1980, 5, 5), sex="F", nik=nik, kk=kk)
    monkeypatch.setattr(household_mod, "utcnow", lambda: datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # 23:00 WIB
    assert [m.full_name for m in household_for(head).visible] == ["Ibu Kepala", "Putri Dewasa"]
    monkeypatch.setattr(household_mod, "utcnow", lambda: datetime(2026, 12, 1, 18, 0, tzinfo=UTC))  # 01:00 WIB
    assert [m.full_name for m in household_for(head).visible] == ["Ibu Kepala"]
