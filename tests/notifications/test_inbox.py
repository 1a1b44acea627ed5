"""The inbox: my rows plus broadcasts to my areas since my account existed; read state; nobody reads another's."""

from datetime import timedelta

import pytest

from jaki.db import utcnow
from jaki.extensions import db
from jaki.notifications.models import Broadcast, Notification
from tests.factories import auth_header, make_user

INBOX = "/api/v1/me/notifications"


@pytest.fixture(autouse=True, params=["afresh", "kept"])
def inbox_answers(request, app, monkeypatch):
    """Every test twice: answered from the database each time, and with the first page and the unread count kept
    (jaki.caching): each change a test makes must show in the kept answers at once."""
    monkeypatch.setitem(app.config, "INBOX_ANSWER_SECONDS", 60 if request.param == "kept" else 0)
    app.extensions.pop("jaki.memory_caches", None)
    yield
    app.extensions.pop("jaki.memory_caches", None)


def _notification(user, minutes_ago, *, type_="report.status_changed", data=None, read=False):
    n = Notification(
        recipient_id=user.id,
        type=type_,
        title="Status laporan diperbarui",
        body="Laporan JKT-7 kini berstatus Proses.",
        data=data or {"ref": "JKT-7", "status": "proses"},
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        status="sent",
        read_at=utcnow() if read else None,
    )
    db.session.add(n)
    db.session.flush()
    return n


def _broadcast(area_code, minutes_ago, title="Siaga banjir"):
    b = Broadcast(
        area_code=area_code,
        title=title,
        body="Tinggi muka air Katulampa 200 cm.",
        status="sent",
        created_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    db.session.add(b)
    db.session.flush()
    return b


def _citizen(kelurahan="31.74.05.1002", created_minutes_ago=600):
    user = make_user(home_kelurahan_code=kelurahan)
    user.created_at = utcnow() - timedelta(minutes=created_minutes_ago)
    db.session.flush()
    return user


def test_inbox_merges_my_notifications_and_my_area_broadcasts_newest_first(client, ctx, areas):
    me = _citizen()
    other = _citizen(kelurahan="31.75.06.1001")
    mine = [_notification(me, m) for m in (50, 30, 10)]
    _notification(other, 20)  # someone else's
    kecamatan = _broadcast("31.74.05", 40)
    jakarta = _broadcast("31", 5)
    _broadcast("31.75.06", 15)  # another kecamatan
    _broadcast("31.74.05.1003", 25)  # a neighbouring kelurahan
    _broadcast("31.74", 700)  # before my account existed

    response = client.get(INBOX, headers=auth_header(me))
    assert response.status_code == 200
    items = response.json["items"]
    assert [i["id"] for i in items] == [jakarta.id, mine[2].id, mine[1].id, kecamatan.id, mine[0].id]
    assert items[0]["kind"] == "broadcast" and items[0]["type"] == "broadcast.emergency"
    assert items[0]["area_code"] == "31" and items[0]["read"] is False
    assert items[1]["kind"] == "notification" and items[1]["data"] == {"ref": "JKT-7", "status": "proses"}
    assert response.json["next_cursor"] is None


def test_keyset_pages_cover_everything_once(client, ctx, areas):
    me = _citizen()
    ids = {_notification(me, m).id for m in range(1, 12)} | {
        _broadcast("31.74.05.1002", m + 0.5).id for m in range(1, 6)
    }
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get(INBOX, query_string=query, headers=auth_header(me)).json
        seen += [i["id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(ids) == 16 and set(seen) == ids and pages == 4


def test_bad_cursor_and_limits_are_validation_errors(client, ctx, areas):
    me = _citizen()
    for query in ({"cursor": "bm90LWEtY3Vyc29y"}, {"cursor": "%%%"}, {"limit": 0}, {"limit": 101}):
        response = client.get(INBOX, query_string=query, headers=auth_header(me))
        assert response.status_code == 422, query
    assert client.get(INBOX).status_code == 401


def test_mark_read_unread_count_and_mark_all(client, ctx, areas):
    me = _citizen()
    first, second = _notification(me, 30), _notification(me, 20)
    _notification(me, 25, read=True)
    alert, older_alert = _broadcast("31.74", 10), _broadcast("31.74.05.1002", 40)
    headers = auth_header(me)

    def count():
        return client.get(f"{INBOX}/unread-count", headers=headers).json["count"]

    assert count() == 4
    assert client.post(f"{INBOX}/{first.id}/read", headers=headers).status_code == 204
    assert client.post(f"{INBOX}/{alert.id}/read", headers=headers).status_code == 204
    assert client.post(f"{INBOX}/{alert.id}/read", headers=headers).status_code == 204  # idempotent
    assert count() == 2
    unread = client.get(INBOX, query_string={"unread_only": "true"}, headers=headers).json["items"]
    assert [i["id"] for i in unread] == [second.id, older_alert.id]

    assert client.post(f"{INBOX}/read-all", headers=headers).status_code == 204
    assert count() == 0
    assert all(i["read"] for i in client.get(INBOX, headers=headers).json["items"])

    # A broadcast after "mark all read" is unread again, without any row written for me when it was sent.
    newer = _broadcast("31", 1)
    assert count() == 1
    assert client.get(INBOX, query_string={"unread_only": "true"}, headers=headers).json["items"][0]["id"] == newer.id


def test_nobody_reads_or_marks_another_persons_items(client, ctx, areas):
    owner, intruder = _citizen(), _citizen(kelurahan="31.75.06.1001")
    theirs = _notification(owner, 10)
    their_area = _broadcast("31.74.05.1002", 5)

    listed = client.get(INBOX, headers=auth_header(intruder)).json["items"]
    assert theirs.id not in {i["id"] for i in listed} and their_area.id not in {i["id"] for i in listed}
    for item_id in (theirs.id, their_area.id, "no-such-id"):
        response = client.post(f"{INBOX}/{item_id}/read", headers=auth_header(intruder))
        assert response.status_code == 404 and response.json["code"] == "not_found"
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None
    assert client.get(f"{INBOX}/unread-count", headers=auth_header(owner)).json["count"] == 2


def test_english_on_request_indonesian_by_default(client, ctx, areas):
    me = _citizen()
    _notification(me, 5)
    indonesian = client.get(INBOX, headers=auth_header(me)).json["items"][0]
    english = client.get(INBOX, headers={**auth_header(me), "Accept-Language": "en"}).json["items"][0]
    assert indonesian["title"] == "Status laporan diperbarui"
    assert english["title"] == "Report status updated" and english["body"] == "Report JKT-7 is now: In progress."


def test_staff_without_a_home_see_all_jakarta_broadcasts_only(client, ctx, areas):
    officer = make_user(role="officer", areas=["31.74.05"])
    officer.created_at = utcnow() - timedelta(hours=1)
    db.session.flush()
    everyone = _broadcast("31", 3)
    _broadcast("31.74.05", 2)
    items = client.get(INBOX, headers=auth_header(officer)).json["items"]
    assert [i["id"] for i in items] == [everyone.id]


def test_my_data_export_has_my_devices_notifications_and_preferences(client, ctx, areas):
    from jaki.notifications.models import Device

    me = _citizen()
    _notification(me, 5)
    _notification(_citizen(), 5)  # not mine
    db.session.add(Device(user_id=me.id, token="fcm-secret-token-123456", platform="ios", topics=["area-31"]))
    db.session.commit()
    export = client.get("/api/v1/me/data-export", headers=auth_header(me, fresh=True)).json["notifications"]
    assert len(export["notifications"]) == 1 and export["notifications"][0]["type"] == "report.status_changed"
    assert export["devices"][0]["token_ending"] == "123456" and "token" not in export["devices"][0]
    assert export["preferences"]["broadcast.emergency"] is True
