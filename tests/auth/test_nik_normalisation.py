"""A NIK typed with spaces, dots or dashes is the same NIK: normalised in one place before it is used or counted."""

import pytest
from sqlalchemy import func, select

from jaki.auth import nik as nik_mod
from jaki.auth.crypto import nik_index
from jaki.auth.models import User
from jaki.extensions import db
from tests.factories import PASSWORD, make_resident, make_user, nik_spellings


def test_normalize_strips_only_separators():
    nik = "3174054107900003"
    for form in nik_spellings(nik).values():
        assert nik_mod.normalize(form) == nik
        assert nik_mod.parse(form).value == nik
    assert nik_mod.normalize("3174O54107900003") == "3174O54107900003"  # a letter O stays, for parse to refuse
    with pytest.raises(nik_mod.InvalidNIK) as caught:
        nik_mod.parse("3174O54107900003")
    assert caught.value.code == "nik_format"
    with pytest.raises(nik_mod.InvalidNIK):
        nik_mod.parse("3174/0541/0790/0003")  # slashes are not a way of writing a NIK


def test_login_with_any_spelling(client, ctx):
    user = make_user()
    for name, form in nik_spellings(user.nik).items():
        response = client.post("/api/v1/auth/login", json={"nik": form, "password": PASSWORD})
        assert response.status_code == 200, (name, response.json)


def test_registration_stores_the_plain_nik_and_sees_the_account_in_any_spelling(client, ctx):
    nik, _ = make_resident()
    body = {"full_name": "Siti Rahayu", "birth_date": "1990-07-01", "phone": "081234567890", "password": PASSWORD}
    first = client.post("/api/v1/auth/register", json={**body, "nik": nik_spellings(nik)["dashes"]})
    assert first.status_code == 201, first.json
    user = db.session.scalar(select(User).where(User.nik_index == nik_index(nik)))
    assert user.nik == nik
    again = client.post("/api/v1/auth/register", json={**body, "nik": nik_spellings(nik)["spaces"]})
    assert again.status_code == 409 and again.json["code"] == "account_exists"
    assert db.session.scalar(select(func.count(User.id)).where(User.nik_index == nik_index(nik))) == 1


def test_the_per_nik_rate_limit_counts_every_spelling_together(client, ctx, app):
    nik = "3174054107909999"  # no account: the limit is per NIK whether or not one exists
    limit = int(app.config["LOGIN_RATE_PER_NIK"].split()[0])
    app.config["LOGIN_LOCKOUT_THRESHOLD"] = 10_000  # isolate the limiter from the lockout here
    forms = [nik, *nik_spellings(nik).values()]
    try:
        statuses = [
            client.post("/api/v1/auth/login", json={"nik": forms[n % len(forms)], "password": "x" * 12}).status_code
            for n in range(limit + 1)
        ]
    finally:
        app.config["LOGIN_LOCKOUT_THRESHOLD"] = 5
    assert statuses == [401] * limit + [429]
