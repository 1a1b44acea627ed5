"""Device registration: tokens, rotation, the per-account cap, removal and area topic subscriptions."""

from sqlalchemy import select

from jaki.db import utcnow
from jaki.extensions import db
from jaki.notifications import tasks
from jaki.notifications.areas import area_chain, topic_for, topics_for_home
from jaki.notifications.models import Device
from tests.factories import auth_header, make_user
from tests.notifications.conftest import SELATAN_TOPICS

TOKEN = "fcm-token-aaaaaaaaaaaaaaaa:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"


def _register(client, user, token=TOKEN, **fields):
    body = {"token": token, "platform": "android", "app_version": "4.2.0", "locale": "id-ID", **fields}
    return client.post("/api/v1/me/devices", json=body, headers=auth_header(user))


def _device(device_id) -> Device:
    db.session.expire_all()
    return db.session.get(Device, device_id)


def test_register_returns_the_device_without_its_token(client, ctx, areas, recorder):
    user = make_user(home_kelurahan_code="31.74.05.1002")
    response = _register(client, user)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["platform"] == "android" and body["locale"] == "id" and body["app_version"] == "4.2.0"
    assert "token" not in body and TOKEN not in response.get_data(as_text=True)
    device = _device(body["id"])
    assert device.user_id == user.id and device.token == TOKEN


def test_topics_follow_the_home_kelurahan_and_its_parents(client, ctx, areas, recorder):
    user = make_user(home_kelurahan_code="31.74.05.1002")
    device_id = _register(client, user).json["id"]

    assert tasks.sync_device_topics(device_id) == "synced"

    device = _device(device_id)
    assert device.topics == SELATAN_TOPICS
    assert device.topics_area_code == "31.74.05.1002" and device.topics_synced_at is not None
    for topic in SELATAN_TOPICS:
        assert TOKEN in recorder.topics[topic]
    listed = client.get("/api/v1/me/devices", headers=auth_header(user)).json
    assert listed[0]["topics"] == SELATAN_TOPICS


def test_topic_names_are_safe_and_parents_fall_back_to_the_code_prefix(ctx):
    assert topic_for("31.74.05.1001") == "area-3174051001"
    assert topic_for("31") == "area-31"
    # Not in the areas table: the dotted prefix gives the parents.
    assert area_chain("31.72.01.1001") == ["31.72.01.1001", "31.72.01", "31.72", "31"]
    assert topics_for_home(None) == ["area-31"]  # no known home: all-Jakarta alerts only


def test_moving_house_resubscribes_every_device(app, client, ctx, areas, recorder):
    user = make_user(home_kelurahan_code="31.74.05.1002")
    device_id = _register(client, user).json["id"]
    tasks.sync_device_topics(device_id)

    user.home_kelurahan_code = "31.75.06.1001"
    db.session.commit()  # the session hook marks the devices for resync in this transaction, then enqueues it
    if app.config["JOBS_BACKEND"] == "rq":
        assert _device(device_id).topics_synced_at is None  # the job waits in Redis; the sweeper would find it too
        tasks.resync_user_devices(user.id)
    tasks.sync_device_topics(device_id)
    device = _device(device_id)
    assert device.topics == ["area-3175061001", "area-317506", "area-3175", "area-31"]
    assert TOKEN not in recorder.topics["area-317405"] and TOKEN in recorder.topics["area-317506"]


def test_registering_again_refreshes_the_same_device(client, ctx, areas, recorder):
    user = make_user()
    first = _register(client, user).json
    again = _register(client, user, app_version="4.3.0", locale="en-US", platform="ios").json
    assert again["id"] == first["id"]
    assert (again["app_version"], again["locale"], again["platform"]) == ("4.3.0", "en", "ios")
    assert len(db.session.scalars(select(Device).where(Device.user_id == user.id)).all()) == 1


def test_a_token_moves_with_the_phone_to_another_account(client, ctx, areas, recorder):
    first_owner, second_owner = make_user(), make_user(home_kelurahan_code="31.75.06.1001")
    device_id = _register(client, first_owner).json["id"]
    tasks.sync_device_topics(device_id)
    moved = _register(client, second_owner).json
    assert moved["id"] == device_id
    assert _device(device_id).user_id == second_owner.id
    assert client.get("/api/v1/me/devices", headers=auth_header(first_owner)).json == []
    tasks.sync_device_topics(device_id)
    assert "area-3175061001" in _device(device_id).topics


def test_rotation_replaces_the_previous_token(client, ctx, areas, recorder):
    user = make_user()
    old_id = _register(client, user).json["id"]
    new_token = TOKEN + "-rotated"
    new_id = _register(client, user, token=new_token, previous_token=TOKEN).json["id"]
    assert new_id != old_id and _device(old_id) is None
    assert [d["id"] for d in client.get("/api/v1/me/devices", headers=auth_header(user)).json] == [new_id]


def test_cap_evicts_the_least_recently_seen_device(client, ctx, areas, recorder, notify_config):
    notify_config(NOTIFY_MAX_DEVICES=3)
    user = make_user()
    ids = [_register(client, user, token=f"{TOKEN}-{n}").json["id"] for n in range(4)]

    listed = [d["id"] for d in client.get("/api/v1/me/devices", headers=auth_header(user)).json]
    assert sorted(listed) == sorted(ids[1:])
    # Evicted: its topic sync (inline already, or now) unsubscribes it from its topics and deletes the row.
    assert tasks.sync_device_topics(ids[0]) in ("deleted", "gone")
    assert _device(ids[0]) is None
    assert all(f"{TOKEN}-0" not in members for members in recorder.topics.values())


def test_remove_my_device_and_not_someone_elses(client, ctx, areas, recorder):
    owner, other = make_user(home_kelurahan_code="31.74.05.1002"), make_user()
    device_id = _register(client, owner).json["id"]
    tasks.sync_device_topics(device_id)

    assert client.delete(f"/api/v1/me/devices/{device_id}", headers=auth_header(other)).status_code == 404
    assert client.delete(f"/api/v1/me/devices/{device_id}", headers=auth_header(owner)).status_code == 204
    assert client.get("/api/v1/me/devices", headers=auth_header(owner)).json == []
    assert client.delete(f"/api/v1/me/devices/{device_id}", headers=auth_header(owner)).status_code == 404

    assert tasks.sync_device_topics(device_id) in ("deleted", "gone")
    assert _device(device_id) is None
    assert all(TOKEN not in members for members in recorder.topics.values())


def test_a_failed_subscription_is_counted_and_left_for_the_sweeper(client, ctx, areas, recorder):
    user = make_user()
    device_id = _register(client, user, token="invalid-token-for-recorder").json["id"]
    before = _device(device_id).topic_sync_failures  # 1 if the inline sync already ran, 0 if it waits in Redis
    assert tasks.sync_device_topics(device_id) == "failed"
    device = _device(device_id)
    assert device.topics == [] and device.topics_synced_at is None
    assert device.topic_sync_failures == before + 1


def test_bad_registrations_are_refused(client, ctx):
    user = make_user()
    for body in (
        {"token": "has spaces in it", "platform": "android"},
        {"token": TOKEN, "platform": "symbian"},
        {"token": TOKEN, "platform": "android", "locale": "bahasa"},
        {"token": TOKEN, "platform": "android", "user_id": "someone-else"},
        {"platform": "android"},
    ):
        response = client.post("/api/v1/me/devices", json=body, headers=auth_header(user))
        assert response.status_code == 422, body
        assert response.json["code"] == "validation_error"
    assert client.post("/api/v1/me/devices", json={"token": TOKEN, "platform": "android"}).status_code == 401


def test_devices_of_an_inactive_account_leave_their_topics(ctx, areas, recorder):
    user = make_user(home_kelurahan_code="31.74.05.1002")
    device = Device(user_id=user.id, token=TOKEN, platform="android", topics=[], last_seen_at=utcnow())
    db.session.add(device)
    db.session.commit()
    tasks.sync_device_topics(device.id)
    user.status = "disabled"
    db.session.commit()
    tasks.sync_device_topics(device.id)
    assert _device(device.id).topics == []
