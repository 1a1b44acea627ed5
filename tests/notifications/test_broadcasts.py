"""Area broadcasts: admin only, one FCM topic send whatever the audience, in every recipient's inbox."""

from datetime import timedelta

from sqlalchemy import func, select

from jaki.db import utcnow
from jaki.extensions import db
from jaki.notifications import delivery, tasks
from jaki.notifications.models import Broadcast, BroadcastRead, Device, Notification
from tests.factories import auth_header, make_user
from tests.notifications.conftest import target

BROADCASTS = "/api/v1/admin/broadcasts"
FLOOD = {
    "area_code": "31.75.06",
    "title": "Siaga 1 banjir Kampung Melayu",
    "body": "Air Ciliwung naik. Segera mengungsi ke posko RW 04.",
}


def _row(broadcast_id) -> Broadcast:
    db.session.expire_all()
    return db.session.get(Broadcast, broadcast_id)


def test_an_admin_warns_an_area_with_one_topic_send(client, ctx, areas, stub, fcm):
    admin = make_user(role="admin")
    residents = [make_user(home_kelurahan_code="31.75.06.1001") for _ in range(5)]
    for n, resident in enumerate(residents):
        for m in range(10):
            db.session.add(Device(user_id=resident.id, token=f"device-{n}-{m}", platform="android", topics=[]))
    db.session.commit()

    response = client.post(BROADCASTS, json=FLOOD, headers=auth_header(admin))
    assert response.status_code == 202, response.json
    broadcast_id = response.json["id"]
    assert response.json["area_code"] == "31.75.06" and response.json["created_by"] == admin.id
    tasks.deliver_broadcast(broadcast_id)  # a no-op if the inline job already sent it

    row = _row(broadcast_id)
    assert row.status == "sent" and row.attempts == 1 and row.message_id.startswith("projects/jaki-test/")
    # One request for 50 devices: the cost does not grow with the audience.
    assert stub.requests_count == 1
    message = stub.messages[0]
    assert target(message) == "area-317506"
    assert message["notification"] == {"title": FLOOD["title"], "body": FLOOD["body"]}
    assert message["data"] == {"type": "broadcast.emergency", "broadcast_id": broadcast_id, "area_code": "31.75.06"}
    assert message["android"]["priority"] == "high"
    # No row per recipient.
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert db.session.scalar(select(func.count()).select_from(BroadcastRead)) == 0

    inbox = client.get("/api/v1/me/notifications", headers=auth_header(residents[0])).json["items"]
    assert [(i["id"], i["kind"], i["read"]) for i in inbox] == [(broadcast_id, "broadcast", False)]
    shown = client.get(f"{BROADCASTS}/{broadcast_id}", headers=auth_header(admin)).json
    assert shown["status"] == "sent"


def test_all_of_jakarta_and_each_level_have_their_topic(client, ctx, areas, stub, fcm):
    admin = make_user(role="admin")
    for code, topic in (("31", "area-31"), ("31.74", "area-3174"), ("31.74.05.1002", "area-3174051002")):
        response = client.post(BROADCASTS, json={**FLOOD, "area_code": code}, headers=auth_header(admin))
        tasks.deliver_broadcast(response.json["id"])
        assert target(stub.messages[-1]) == topic


def test_only_admins_and_only_known_areas(client, ctx, areas):
    citizen, officer, admin = make_user(), make_user(role="officer", areas=["31.75"]), make_user(role="admin")
    for user in (citizen, officer):
        response = client.post(BROADCASTS, json=FLOOD, headers=auth_header(user))
        assert response.status_code == 403 and response.json["code"] == "forbidden"
        assert client.get(BROADCASTS, headers=auth_header(user)).status_code == 403
    assert client.post(BROADCASTS, json=FLOOD).status_code == 401
    for area_code in ("32.01", "31.99.99", "jakarta", "31.74.05.1002; drop"):
        response = client.post(BROADCASTS, json={**FLOOD, "area_code": area_code}, headers=auth_header(admin))
        assert response.status_code == 422, area_code
    unknown = client.post(BROADCASTS, json={**FLOOD, "area_code": "31.71.01"}, headers=auth_header(admin))
    assert unknown.json["code"] == "area_unknown"
    short = client.post(BROADCASTS, json={**FLOOD, "title": "x"}, headers=auth_header(admin))
    assert short.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Broadcast)) == 0


def test_listing_pages_newest_first(client, ctx, areas):
    admin = make_user(role="admin")
    now = utcnow()
    ids = []
    for n in range(5):
        b = Broadcast(
            area_code="31.74" if n % 2 else "31",
            title=f"t{n}",
            body="b",
            status="sent",
            created_at=now - timedelta(minutes=10 - n),
        )
        db.session.add(b)
        db.session.flush()
        ids.append(b.id)
    page = client.get(BROADCASTS, query_string={"limit": 3}, headers=auth_header(admin)).json
    assert [i["id"] for i in page["items"]] == ids[::-1][:3]
    rest = client.get(
        BROADCASTS, query_string={"limit": 3, "cursor": page["next_cursor"]}, headers=auth_header(admin)
    ).json
    assert [i["id"] for i in rest["items"]] == ids[::-1][3:] and rest["next_cursor"] is None
    only = client.get(BROADCASTS, query_string={"area_code": "31.74"}, headers=auth_header(admin)).json
    assert {i["id"] for i in only["items"]} == {ids[1], ids[3]}


def test_unavailable_fcm_is_retried_and_an_unknown_outcome_is_sent_again(ctx, areas, stub, fcm, notify_config):
    notify_config(NOTIFY_SENDING_LEASE_SECONDS=60)
    row = Broadcast(area_code="31.74", title="Peringatan", body="Gempa susulan mungkin terjadi.", status="created")
    db.session.add(row)
    db.session.commit()
    stub.fail_next(2, 503)
    assert delivery.send_broadcast(row.id).outcome == "retry"
    assert _row(row.id).status == "created" and "UNAVAILABLE" in _row(row.id).last_error
    assert delivery.send_broadcast(row.id).outcome == "sent"
    assert len(stub.messages) == 1

    # An emergency whose worker died mid-send is sent again: a duplicate alert beats a missing one.
    lost = Broadcast(
        area_code="31",
        title="Peringatan",
        body="Banjir rob di pesisir utara.",
        status="sending",
        attempts=1,
        claimed_at=utcnow() - timedelta(minutes=5),
    )
    db.session.add(lost)
    db.session.commit()
    assert delivery.send_broadcast(lost.id).outcome == "sent"
    assert delivery.send_broadcast(lost.id).outcome == "skipped"
    assert len(stub.messages) == 2


def test_a_permanent_topic_failure_is_recorded(ctx, areas, stub, fcm):
    row = Broadcast(area_code="31.74", title="Peringatan", body="Uji coba sirene.", status="created")
    db.session.add(row)
    db.session.commit()
    stub.fail_next(1, 400, "INVALID_ARGUMENT")
    assert delivery.send_broadcast(row.id).outcome == "failed"
    row = _row(row.id)
    assert row.status == "failed" and row.last_error.startswith("INVALID_ARGUMENT")
