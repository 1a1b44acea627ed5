"""One keyset pagination helper: every list pages the same way and answers a malformed cursor with 422."""

import pytest
from sqlalchemy import insert

from jaki import audit
from jaki.api import Keyset, decode_cursor, encode_cursor
from jaki.db import utcnow
from jaki.errors import JakiError
from jaki.extensions import db
from jaki.reports.models import Report
from tests.factories import auth_header, ensure_agency, make_user
from tests.reports.factories import report_row, seed_categories

# Not ours in every way a client (or an attacker) can get it wrong.
MALFORMED = {
    "not base64": "%%%not-a-cursor%%%",
    "not JSON": "bm90LWpzb24",
    "not a list": "eyJhIjoxfQ",  # {"a":1}
    "empty list": encode_cursor([]),
    "null key": encode_cursor([None]),
    "too long": "A" * 600,
    "huge number": encode_cursor([10**30]),
    "wrong kinds": encode_cursor([1, 2]),
    "naive time": encode_cursor(["2026-01-01T00:00:00", "x"]),
    "one key too many": encode_cursor(["2026-01-01T00:00:00+00:00", "x", "y"]),
    "boolean id": encode_cursor([True]),
    "negative id": encode_cursor([-1]),
    "NUL in id": encode_cursor(["2026-01-01T00:00:00+00:00", "a\x00b"]),
}


@pytest.fixture
def lists(ctx):
    """(path, viewer) for every list the API has, each with at least one row."""
    seed_categories()
    ensure_agency("DPMPTSP")
    ensure_agency("KELURAHAN")
    reporter = make_user()
    admin = make_user(role="admin")
    row = report_row(-6.2710, 106.7770, reporter_id=reporter.id)
    db.session.execute(insert(Report), [row])
    report_id = row["id"]
    audit.record(db.session, actor=admin, subject_id=reporter.id, action="test.read", fields=("x",), reason="uji")
    db.session.commit()
    officer = make_user(role="officer", agency_code="DBM", areas=["31.74"])
    permits = make_user(role="officer", agency_code="DPMPTSP", areas=["31"])
    letters = make_user(role="officer", agency_code="KELURAHAN", areas=["31.74.05.1002"])
    return [
        ("/api/v1/reports", None),
        (f"/api/v1/reports/{report_id}/comments", None),
        ("/api/v1/me/reports", reporter),
        ("/api/v1/officer/reports", officer),
        ("/api/v1/admin/audit", admin),
        ("/api/v1/officer/permits", permits),
        ("/api/v1/officer/letters", letters),
        ("/api/v1/me/notifications", reporter),
        ("/api/v1/admin/broadcasts", admin),
    ]


def test_a_malformed_cursor_on_every_list_is_422_cursor_invalid(client, lists):
    for path, viewer in lists:
        headers = auth_header(viewer) if viewer else {}
        assert client.get(path, headers=headers).status_code == 200, path
        for name, cursor in MALFORMED.items():
            response = client.get(path, query_string={"cursor": cursor}, headers=headers)
            assert response.status_code == 422, (path, name, response.json)
            body = response.json
            assert (body["code"], body["status"]) == ("cursor_invalid", 422), (path, name)
            assert body["message"].startswith("Cursor halaman tidak valid"), (path, name)
            assert body["errors"] == {"cursor": [body["message"]]}
        english = client.get(
            path, query_string={"cursor": MALFORMED["not JSON"]}, headers={**headers, "Accept-Language": "en"}
        ).json
        assert english["message"] == "The page cursor is not valid. Reload the list from the first page.", path
        assert english["errors"] == {"cursor": [english["message"]]}


def test_the_audit_log_pages_and_its_cursor_never_500s(client, ctx):
    admin = make_user(role="admin")
    subject = make_user()
    for n in range(5):
        audit.record(db.session, actor=admin, subject_id=subject.id, action=f"test.{n}", fields=("x",), reason="uji")
    db.session.commit()
    url = f"/api/v1/admin/audit?limit=2&subject_id={subject.id}"
    seen, cursor = [], None
    while True:
        page = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=auth_header(admin)).json
        seen += [item["action"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"test.{n}" for n in range(4, -1, -1)]
    # The crafted cursor that answered 500 before (a string where the id is a number).
    crafted = encode_cursor(["abc"])
    assert client.get(f"{url}&cursor={crafted}", headers=auth_header(admin)).json["code"] == "cursor_invalid"


def test_keyset_after_and_decode(ctx):
    order = Keyset((Report.created_at, Report.id), ("datetime", "str"), descending=True)
    at = utcnow().replace(microsecond=0)
    values = order.decode(order.encode([at, "b"]))
    assert values == (at, "b")
    sql = str(order.after(values).compile(compile_kwargs={"literal_binds": False}))
    assert sql.count("reports.created_at") == 2 and "reports.id <" in sql
    assert decode_cursor(None, ("int",)) is None and decode_cursor("", ("int",)) is None
    with pytest.raises(JakiError) as caught:
        decode_cursor(encode_cursor(["x"]), ("int",))
    assert (caught.value.status, caught.value.code) == (422, "cursor_invalid")
    with pytest.raises(ValueError):
        Keyset((Report.id,), ("uuid",))
