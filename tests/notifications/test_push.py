"""Push senders: real firebase-admin against the local FCM stub, and the recording sender."""

from __future__ import annotations

import json
import logging
import socket
import time
import warnings
from collections import Counter

import pytest
from firebase_admin import exceptions as fb_exceptions
from firebase_admin import messaging
from google.auth import exceptions as auth_exceptions

from jaki.notifications.push import (
    FcmPushSender,
    PushOutcome,
    PushResult,
    RecordingPushSender,
    _failure,
    push_sender_from_config,
)
from jaki.notifications.transport import KeepAliveAdapter
from tests.support.fcm_stub import FcmStub

MESSAGE = {"title": "Banjir di Kampung Melayu", "body": "Air setinggi 80 cm, hindari Jl. Jatinegara", "data": {}}


@pytest.fixture
def stub():
    with FcmStub() as running:
        yield running


@pytest.fixture
def sender(stub):
    with FcmPushSender("jaki-test", fcm_url=stub.send_url) as fcm:
        yield fcm


def test_each_scripted_token_gets_its_outcome(stub, sender):
    tokens = ["good-1", "unregistered-1", "mismatch-1", "quota-1", "unavailable-1", "invalid-1", "good-2"]

    results = sender.send(tokens, **MESSAGE)

    assert [r.token for r in results] == tokens
    by_token = {r.token: r for r in results}
    assert by_token["good-1"].outcome is PushOutcome.SENT
    assert by_token["good-1"].message_id.startswith("projects/jaki-test/messages/")
    assert by_token["good-2"].ok
    assert (by_token["unregistered-1"].outcome, by_token["unregistered-1"].error_code) == (
        PushOutcome.UNREGISTERED,
        "UNREGISTERED",
    )
    assert (by_token["mismatch-1"].outcome, by_token["mismatch-1"].error_code) == (
        PushOutcome.UNREGISTERED,
        "SENDER_ID_MISMATCH",
    )
    assert (by_token["invalid-1"].outcome, by_token["invalid-1"].error_code) == (
        PushOutcome.UNREGISTERED,
        "INVALID_ARGUMENT",
    )
    quota = by_token["quota-1"]
    assert (quota.outcome, quota.error_code, quota.retry_after) == (PushOutcome.RETRYABLE, "QUOTA_EXCEEDED", 1.0)
    assert (by_token["unavailable-1"].outcome, by_token["unavailable-1"].error_code) == (
        PushOutcome.RETRYABLE,
        "UNAVAILABLE",
    )
    assert sorted(m["fid"] for m in stub.messages) == ["good-1", "good-2"]


def test_message_shape_and_priority(stub, sender):
    sender.send(
        ["good-1"],
        title="Peringatan",
        body="Evakuasi",
        data={"type": "emergency"},
        collapse_key="flood-7",
        priority="high",
    )
    sender.send(["good-2"], **MESSAGE)

    high, normal = stub.messages
    assert high["notification"] == {"title": "Peringatan", "body": "Evakuasi"}
    assert high["data"] == {"type": "emergency"}
    assert high["android"] == {"priority": "high", "collapse_key": "flood-7"}
    assert high["apns"]["headers"] == {"apns-priority": "10", "apns-collapse-id": "flood-7"}
    assert high["apns"]["payload"]["aps"]["sound"] == "default"
    assert high["webpush"]["headers"] == {"Urgency": "high"}
    assert normal["android"]["priority"] == "normal"
    assert normal["apns"]["headers"] == {"apns-priority": "5"}
    assert "data" not in normal


def test_targets_are_sent_as_fids_without_deprecation_warning(stub, sender):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sender.send(["good-1", "good-2"], **MESSAGE)
    assert not [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert all("fid" in m and "token" not in m for m in stub.messages)
    # Why fids: the alternative still warns in this firebase-admin, and warnings are errors here.
    with pytest.warns(DeprecationWarning):
        messaging.MulticastMessage(tokens=["good-1"])


def test_more_than_500_tokens_go_in_batches_each_token_once(stub, sender, monkeypatch):
    calls = []
    real = sender._send_each

    def counting(tokens, messages):
        calls.append(len(messages))
        return real(tokens, messages)

    monkeypatch.setattr(sender, "_send_each", counting)
    tokens = [f"device-{i:04d}" for i in range(1001)]

    results = sender.send(tokens, **MESSAGE)

    assert calls == [500, 500, 1]
    assert [r.token for r in results] == tokens
    assert all(r.ok for r in results)
    assert len({r.message_id for r in results}) == 1001
    assert stub.requests_count == 1001
    assert stub.attempts == Counter(tokens)


def test_503_is_retried_briefly_without_backoff(stub, sender):
    started = time.perf_counter()
    results = sender.send(["unavailable-1", "flaky-1", "good-1"], **MESSAGE)
    elapsed = time.perf_counter() - started

    assert [r.outcome for r in results] == [PushOutcome.RETRYABLE, PushOutcome.SENT, PushOutcome.SENT]
    # One bounded retry, not firebase-admin's four with exponential backoff (about 7 s).
    assert stub.attempts["unavailable-1"] == 2
    assert stub.attempts["flaky-1"] == 2
    assert elapsed < 1.0


def test_retries_can_be_disabled(stub):
    with FcmPushSender("jaki-test", fcm_url=stub.send_url, retries=0) as sender:
        first = sender.send(["flaky-1"], **MESSAGE)
        second = sender.send(["flaky-1"], **MESSAGE)
    assert (first[0].outcome, first[0].error_code) == (PushOutcome.RETRYABLE, "UNAVAILABLE")
    assert second[0].ok
    assert stub.attempts["flaky-1"] == 2


def test_retry_after_is_reported_not_slept(stub, sender):
    stub.quota_retry_after = 30
    started = time.perf_counter()
    [result] = sender.send(["quota-1"], **MESSAGE)
    assert (result.outcome, result.retry_after) == (PushOutcome.RETRYABLE, 30.0)
    assert stub.attempts["quota-1"] == 1
    assert time.perf_counter() - started < 1.0


def test_fail_next_and_payload_errors(stub, sender):
    stub.fail_next(1, 400)
    [bad_payload] = sender.send(["good-1"], **MESSAGE)
    # Not the token's fault: it must not be deleted.
    assert (bad_payload.outcome, bad_payload.error_code) == (PushOutcome.PERMANENT, "INVALID_ARGUMENT")

    stub.fail_next(1, 403)  # e.g. the FCM API is not enabled on the project
    [denied] = sender.send(["good-1"], **MESSAGE)
    assert (denied.outcome, denied.error_code) == (PushOutcome.PERMANENT, "PERMISSION_DENIED")

    stub.fail_next(2, 500)
    [internal] = sender.send(["good-1"], **MESSAGE)
    assert (internal.outcome, internal.error_code) == (PushOutcome.RETRYABLE, "INTERNAL")


def test_empty_token_does_not_sink_the_batch(stub, sender):
    results = sender.send(["good-1", "", "good-2"], **MESSAGE)
    assert [r.outcome for r in results] == [PushOutcome.SENT, PushOutcome.UNREGISTERED, PushOutcome.SENT]
    assert stub.requests_count == 2


def test_empty_token_list_makes_no_call(stub, sender):
    assert sender.send([], **MESSAGE) == []
    assert stub.requests_count == 0


def test_connection_refused_and_timeouts_are_retryable(stub):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{unused.getsockname()[1]}/v1/projects/{{0}}/messages:send"
    with FcmPushSender("jaki-test", fcm_url=dead_url) as sender:
        [refused] = sender.send(["good-1"], **MESSAGE)
    assert (refused.outcome, refused.error_code) == (PushOutcome.RETRYABLE, "UNAVAILABLE")

    stub.latency = 0.5
    started = time.perf_counter()
    with FcmPushSender("jaki-test", fcm_url=stub.send_url, timeout=0.1) as sender:
        [timed_out] = sender.send(["good-1"], **MESSAGE)
    assert (timed_out.outcome, timed_out.error_code) == (PushOutcome.RETRYABLE, "DEADLINE_EXCEEDED")
    assert stub.requests_count == 1  # no retry after a read timeout: FCM may have delivered it
    assert time.perf_counter() - started < 1.0


def test_topic_send(stub, sender):
    result = sender.send_to_topic(
        "banjir-jaktim", title="Siaga 1", body="Pintu air Manggarai", data={"level": "1"}, priority="high"
    )
    assert result.ok and result.token == "/topics/banjir-jaktim"
    [message] = stub.messages
    assert message["topic"] == "banjir-jaktim"
    assert message["android"]["priority"] == "high"

    stub.fail_next(2, 503)
    failed = sender.send_to_topic("banjir-jaktim", **MESSAGE)
    assert (failed.outcome, failed.error_code) == (PushOutcome.RETRYABLE, "UNAVAILABLE")


def test_subscribe_and_unsubscribe(stub, sender):
    failed = sender.subscribe(["good-1", "unregistered-1", "good-2", "mismatch-1"], "kelurahan-3171")
    assert failed == ["unregistered-1", "mismatch-1"]
    assert stub.topics == {"kelurahan-3171": {"good-1", "good-2"}}

    assert sender.unsubscribe(["good-1"], "/topics/kelurahan-3171") == []
    assert stub.topics == {"kelurahan-3171": {"good-2"}}
    assert sender.subscribe([], "kelurahan-3171") == []


def test_subscribe_more_than_1000_tokens(stub, sender):
    tokens = [f"device-{i:04d}" for i in range(1001)]
    assert sender.subscribe(tokens, "jakarta") == []
    assert stub.topics["jakarta"] == set(tokens)


def test_whole_topic_call_failing_reports_every_token(stub, sender):
    stub.fail_next(10, 503)
    assert sender.subscribe(["good-1", "good-2"], "jakarta") == ["good-1", "good-2"]


def test_stub_serves_legacy_instance_id_batches(stub):
    import requests

    with requests.Session() as session:
        response = session.post(
            stub.iid_url + "/iid/v1:batchAdd",
            json={"to": "/topics/jakarta", "registration_tokens": ["good-1", "unregistered-1"]},
        )
        assert response.json() == {"results": [{}, {"error": "NOT_FOUND"}]}
        session.post(
            stub.iid_url + "/iid/v1:batchRemove", json={"to": "/topics/jakarta", "registration_tokens": ["good-1"]}
        )
        not_fcm = session.post(stub.send_url_for("p"), json={"message": {"fid": "a", "topic": "b"}})
    assert stub.topics == {"jakarta": set()}
    assert not_fcm.status_code == 400
    assert not_fcm.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_senders_coexist_and_leave_firebase_admin_defaults_alone(stub):
    with (
        FcmStub() as other,
        FcmPushSender("a", fcm_url=stub.send_url) as one,
        FcmPushSender("b", fcm_url=other.send_url) as two,
    ):
        assert one.send(["good-1"], **MESSAGE)[0].ok
        assert two.send(["good-2"], **MESSAGE)[0].ok
        assert [m["fid"] for m in stub.messages] == ["good-1"]
        assert [m["fid"] for m in other.messages] == ["good-2"]
    assert messaging._MessagingService.FCM_URL == "https://fcm.googleapis.com/v1/projects/{0}/messages:send"


def test_production_sender_targets_google_with_bounded_retries(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = tmp_path / "service-account.json"
    account.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "jaki-prod",
                "private_key_id": "test",
                "private_key": pem,
                "client_email": "push@jaki-prod.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    # Constructing it makes no request; nothing is sent in this test.
    with FcmPushSender("jaki-prod", credentials_file=str(account)) as sender:
        service = sender._service
        assert service._fcm_url == "https://fcm.googleapis.com/v1/projects/jaki-prod/messages:send"
        adapter = service._client.session.get_adapter(service._fcm_url)
        assert isinstance(adapter, KeepAliveAdapter) and adapter.retries == 1
        retry = adapter.fallback.max_retries  # a proxy's path keeps the same rules
        assert (retry.total, retry.status, retry.read, retry.respect_retry_after_header) == (1, 1, False, False)


def test_failure_classification():
    unknown = fb_exceptions.UnknownError("boom", cause=auth_exceptions.TransportError("dns"))
    assert _failure("t", unknown).outcome is PushOutcome.RETRYABLE
    assert _failure("t", fb_exceptions.UnknownError("boom")).outcome is PushOutcome.PERMANENT
    assert _failure("t", messaging.ThirdPartyAuthError("APNs cert expired")).outcome is PushOutcome.PERMANENT
    assert _failure("t", fb_exceptions.InvalidArgumentError("Invalid value at 'message.data'")).outcome is (
        PushOutcome.PERMANENT
    )
    assert _failure("t", None).error_code == "UNKNOWN"


def test_logs_carry_counts_never_tokens_or_bodies(stub, sender, caplog):
    with caplog.at_level(logging.DEBUG, logger="jaki.notifications"):
        sender.send(["secret-device-token", "unregistered-secret"], **MESSAGE)
        sender.subscribe(["secret-device-token"], "jakarta")
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("jaki"))
    assert "push_total" in logged and "UNREGISTERED" in logged
    assert "secret" not in logged
    assert MESSAGE["body"] not in logged


def test_invalid_payloads_are_refused_before_sending(stub, sender):
    for data in ({"from": "x"}, {"google.x": "y"}, {"count": 3}, {"blob": "x" * 5000}):
        with pytest.raises(ValueError):
            sender.send(["good-1"], title="t", body="b", data=data)
    with pytest.raises(ValueError):
        sender.send(["good-1"], title="t", body="b", data={}, priority="urgent")
    assert stub.requests_count == 0


# The embedded default


def test_recording_sender_records_and_rejects_invalid_tokens():
    recorder = RecordingPushSender()
    results = recorder.send(
        ["device-1", "invalid-old", "device-2"], title="t", body="b", data={"k": "v"}, collapse_key="c"
    )
    assert [r.outcome for r in results] == [PushOutcome.SENT, PushOutcome.UNREGISTERED, PushOutcome.SENT]
    assert results[1] == PushResult(
        "invalid-old",
        PushOutcome.UNREGISTERED,
        error_code="UNREGISTERED",
        error_message="Requested entity was not found.",
    )
    assert [s["target"] for s in recorder.sent] == ["device-1", "device-2"]
    assert recorder.sent[0] | {"message_id": None} == {
        "kind": "token",
        "target": "device-1",
        "title": "t",
        "body": "b",
        "data": {"k": "v"},
        "collapse_key": "c",
        "priority": "normal",
        "message_id": None,
    }
    assert len({s["message_id"] for s in recorder.sent}) == 2


def test_recording_sender_sink_topics_and_subscriptions():
    rows = []
    recorder = RecordingPushSender(sink=rows.append)
    result = recorder.send_to_topic("/topics/jakarta", title="t", body="b", data={}, priority="high")
    assert result.ok and result.token == "/topics/jakarta"
    assert rows[0]["kind"] == "topic" and rows[0]["priority"] == "high"
    assert recorder.sent == []

    assert recorder.subscribe(["device-1", "invalid-x"], "jakarta") == ["invalid-x"]
    recorder.unsubscribe(["device-1"], "jakarta")
    assert recorder.topics == {"jakarta": set()}
    with pytest.raises(ValueError):
        recorder.send(["device-1"], title="t", body="b", data={"n": 1})


def test_push_sender_from_config(stub):
    rows = []
    recorder = push_sender_from_config({"PUSH_BACKEND": "record"}, sink=rows.append)
    recorder.send(["device-1"], **MESSAGE)
    assert isinstance(recorder, RecordingPushSender) and len(rows) == 1
    assert isinstance(push_sender_from_config({}), RecordingPushSender)

    config = {
        "PUSH_BACKEND": "fcm",
        "FCM_PROJECT_ID": "jaki-test",
        "FCM_CREDENTIALS_FILE": "/nonexistent/never-read.json",
        "FCM_URL": stub.send_url,
        "FCM_IID_URL": stub.iid_url,
    }
    fcm = push_sender_from_config(config)
    try:
        assert fcm.send(["good-1"], **MESSAGE)[0].ok
        assert fcm.subscribe(["good-1"], "jakarta") == []
    finally:
        fcm.close()
    assert stub.topics == {"jakarta": {"good-1"}}

    with pytest.raises(ValueError, match="FCM_URL"):
        push_sender_from_config({"PUSH_BACKEND": "fcm", "FCM_PROJECT_ID": "p", "FCM_IID_URL": stub.iid_url})
    with pytest.raises(RuntimeError, match="FCM_PROJECT_ID"):
        push_sender_from_config({"PUSH_BACKEND": "fcm"})
    with pytest.raises(RuntimeError, match="PUSH_BACKEND"):
        push_sender_from_config({"PUSH_BACKEND": "apns"})


def test_proxy_and_ca_settings_are_read_once_at_start(stub, monkeypatch):
    """requests would read them again for every message; the sender reads them when it starts, so a deployment
    behind an HTTPS proxy, or with its own CA bundle, still reaches Google through them."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.pemprov.example:3128")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/pemprov-ca.pem")
    with FcmPushSender("jaki-test", fcm_url="https://fcm.example/v1/projects/{0}/messages:send") as sender:
        session = sender._service._client.session
        assert session.trust_env is False
        assert session.proxies["https"] == "http://proxy.pemprov.example:3128"
        assert session.verify == "/etc/ssl/certs/pemprov-ca.pem"
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.pemprov.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with FcmPushSender("jaki-test", fcm_url=stub.send_url) as sender:
        assert "http" not in sender._service._client.session.proxies  # NO_PROXY holds for the stub
        assert all(r.ok for r in sender.send(["good-1"], **MESSAGE))  # not through the (unresolvable) proxy


def test_a_sender_sends_on_its_own_threads_not_a_thread_per_message(stub):
    import threading

    with FcmPushSender("jaki-test", fcm_url=stub.send_url, concurrency=4) as sender:
        seen: set[str] = set()
        real = sender._send_one

        def spy(message):
            seen.add(threading.current_thread().name)
            return real(message)

        sender._send_one = spy
        first = sender.send([f"device-{i}" for i in range(300)], **MESSAGE)
        second = sender.send([f"device-{i}" for i in range(300, 600)], **MESSAGE)
    assert all(r.ok for r in first + second) and stub.requests_count == 600
    assert 1 <= len(seen) <= 4 and all(name.startswith("fcm-send") for name in seen)
    with pytest.raises(ValueError, match="concurrency"):
        FcmPushSender("jaki-test", fcm_url=stub.send_url, concurrency=0)
