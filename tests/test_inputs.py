"""Bad input is refused at the door: JSON under limits, bounded and storable text, path ids, header values."""

import json

import marshmallow as ma
import pytest

from jaki import inputs
from jaki.api import EMAIL_MAX_LENGTH, INT_MAX, TEXT_MAX_LENGTH, Schema
from jaki.auth.models import User
from jaki.extensions import db
from tests.factories import auth_header, make_user

LOGIN = "/api/v1/auth/login"


def _post_raw(client, path, body: bytes, **headers):
    return client.post(path, data=body, content_type="application/json", headers=headers)


def _bad_json(response):
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["code"] == "bad_request" and body["status"] == 400 and body["message"]
    assert body["errors"]["json"]
    return body


@pytest.mark.parametrize(
    "raw",
    [
        '{"nik": ' + "1" * 5000 + ', "password": "x"}',
        '{"nik": "3174054107900003", "password": ' + "9" * 41 + "}",
        '{"nik": 1e400, "password": "x"}',
        '{"nik": NaN, "password": "x"}',
        '{"nik": "3174054107900003", "password": -Infinity}',
        '{"nik": ' + "[" * 5000 + "]" * 5000 + "}",
        "[" * 100_000,
        '{"nik": "\\ud800", "password": "x"}',
        '{"nik": "a\\udc00", "password": "x"}',
    ],
    ids=[
        "5000 digits",
        "41 digits",
        "1e400",
        "NaN",
        "-Infinity",
        "deep",
        "deep unbalanced",
        "surrogate",
        "low surrogate",
    ],
)
def test_json_beyond_the_limits_is_400_even_at_login(client, raw):
    _bad_json(_post_raw(client, LOGIN, raw.encode()))


def test_invalid_utf8_is_400(client):
    _bad_json(_post_raw(client, LOGIN, b'{"nik": "\xff\xfe", "password": "x"}'))


def test_a_json_body_over_the_json_cap_is_413_while_multipart_keeps_the_photo_cap(app, client):
    body = b'{"nik": "' + b"1" * app.config["JSON_MAX_BYTES"] + b'", "password": "x"}'
    response = _post_raw(client, LOGIN, body)
    assert response.status_code == 413 and response.get_json()["code"] == "payload_too_large"
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["JSON_MAX_BYTES"]


def test_within_the_limits_json_parses_as_before():
    nested = "[" * inputs.JSON_MAX_DEPTH + "1" + "]" * inputs.JSON_MAX_DEPTH
    assert json.dumps(inputs.loads(nested)) == nested
    assert inputs.loads('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "b": [[[]]]}')["b"] == [[[]]]
    assert inputs.loads(b'{"lat": -6.2710000000000001, "n": ' + b"9" * 40 + b"}")["n"] == int("9" * 40)
    assert inputs.loads('{"emoji": "\\ud83d\\ude00", "escaped": "\\\\ud800"}') == {"emoji": "😀", "escaped": "\\ud800"}
    with pytest.raises(json.JSONDecodeError):
        inputs.loads("[" * (inputs.JSON_MAX_DEPTH + 1) + "]" * (inputs.JSON_MAX_DEPTH + 1))


def test_nul_and_overlong_text_are_422_naming_the_field(client, ctx):
    user = make_user(password="kata-sandi-rahasia-1")
    headers = auth_header(user)
    nul = client.post("/api/v1/reports/x/comments", json={"body": "halo\u0000"}, headers=headers)
    assert nul.status_code == 422 and set(nul.json["errors"]) == {"body"}
    english = client.patch("/api/v1/me", json={"email": "a\u0000@x.id"}, headers={**headers, "Accept-Language": "en"})
    assert english.status_code == 422 and "NUL" in english.json["errors"]["email"][0]
    # On SQLite a 20 MB email was once stored: now the answer is 422 and nothing changes.
    long_email = "a" * 300 + "@example.id"
    response = client.patch("/api/v1/me", json={"email": long_email}, headers=headers)
    assert response.status_code == 422 and response.json["errors"]["email"] == ["Maksimal 254 karakter."]
    db.session.expire_all()
    assert db.session.get(User, user.id).email is None


def test_patch_me_with_an_empty_kelurahan_clears_it(client, ctx):
    user = make_user()
    response = client.patch("/api/v1/me", json={"home_kelurahan_code": ""}, headers=auth_header(user))
    assert response.status_code == 200 and response.json["home_kelurahan_code"] is None


def test_nul_in_query_strings_and_unknown_keys_is_422(client, ctx):
    assert client.get("/api/v1/reports?category=jalan%00rusak").status_code == 422
    assert client.get("/api/v1/reports?area=31.74%00").status_code == 422
    response = client.post(LOGIN, data=b'{"\\u0000": 1}', content_type="application/json")
    assert response.status_code == 422


@pytest.mark.parametrize("segment", ["%00", "abc%00def", "x" * 101, "%1b%5B31m"])
def test_path_ids_no_id_can_be_are_404_in_the_envelope(client, ctx, segment):
    headers = auth_header(make_user())
    for path in (f"/api/v1/reports/{segment}", f"/api/v1/me/permits/{segment}", f"/api/v1/admin/agencies/{segment}"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.get_json()["code"] == "not_found"


def test_a_staff_members_reason_header_is_bounded(client, ctx):
    admin, person = make_user(role="admin"), make_user()
    url = f"/api/v1/admin/users/{person.id}"
    long = client.get(url, headers={**auth_header(admin), "X-Access-Reason": "Verifikasi " + "x" * 400})
    assert long.status_code == 422 and long.json["code"] == "reason_too_long"
    control = client.get(url, headers={**auth_header(admin), "X-Access-Reason": "Verifikasi\x1b[2J data"})
    assert control.status_code == 422 and control.json["code"] == "reason_required"
    fine = client.get(url, headers={**auth_header(admin), "X-Access-Reason": "Verifikasi data pengaduan"})
    assert fine.status_code == 200


def test_every_field_of_a_jaki_schema_is_bounded():
    class Example(Schema):
        name = ma.fields.String()
        email = ma.fields.Email()
        tags = ma.fields.List(ma.fields.String())
        labels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
        count = ma.fields.Integer()
        share = ma.fields.Float()
        short = ma.fields.String(validate=ma.validate.Length(max=5))

    errors = Example().validate(
        {
            "name": "x" * (TEXT_MAX_LENGTH + 1),
            "email": "a" * EMAIL_MAX_LENGTH + "@x.id",
            "tags": ["y" * (TEXT_MAX_LENGTH + 1)],
            "labels": {"z" * (TEXT_MAX_LENGTH + 1): "ok"},
            "count": INT_MAX + 1,
            "share": "inf",
            "short": "123456",
        }
    )
    assert set(errors) == {"name", "email", "tags", "labels", "count", "share", "short"}
    assert errors["short"] == ["Longer than maximum length 5."]  # a field's own limit wins
    assert Example().validate({"name": "x" * TEXT_MAX_LENGTH, "count": INT_MAX, "share": 1.5}) == {}
    # The rules are added to each schema's copy of its fields once, never piled onto the class's.
    Example(), Example()
    assert len(Example().fields["name"].validators) == 1


def test_open311_text_keeps_the_reports_limits_not_the_default():
    from jaki.open311.schemas import PostRequestSchema

    assert PostRequestSchema().validate({"description": "x" * 2000, "address_string": "y" * 300}) == {}
    assert set(PostRequestSchema().validate({"description": "x" * 2001, "address_string": "y" * 301})) == {
        "description",
        "address_string",
    }
