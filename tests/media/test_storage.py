"""Photo storage: key rules, the local directory backend, and S3Storage against a local S3 server (moto)."""

from __future__ import annotations

import socket
import stat
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config import Testing
from jaki.media.storage import (
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    storage_from_config,
    validate_key,
)

GOOD_KEYS = ["a", "photo.jpg", "reports/2024/01/9f86d081-884c_thumb.jpg", "A-b_C.d.e", "x/y/z/0"]
BAD_KEYS = [
    "",
    "..",
    ".",
    "../etc/passwd",
    "reports/../../etc/passwd",
    "/etc/passwd",
    "reports//a.jpg",
    "reports/",
    ".hidden",
    "reports/.tmp-abc",
    "reports\\a.jpg",
    "a b.jpg",
    "foto-é.jpg",
    "a\x00b",
    "a\nb",
    "C:/x",
    "x" * 513,
]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_good_keys_pass(key):
    assert validate_key(key) == key


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused(key):
    with pytest.raises(ValueError, match="invalid storage key"):
        validate_key(key)


def test_non_string_key_is_refused():
    with pytest.raises(ValueError):
        validate_key(b"a.jpg")  # type: ignore[arg-type]


# --- LocalStorage ----------------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path):
    return LocalStorage(tmp_path / "media")


def test_local_round_trip(local):
    assert isinstance(local, Storage)
    assert not local.exists("reports/1/a.jpg")

    local.put("reports/1/a.jpg", b"\xff\xd8first", "image/jpeg")

    assert local.exists("reports/1/a.jpg")
    assert local.get("reports/1/a.jpg") == b"\xff\xd8first"
    assert (local.root / "reports" / "1" / "a.jpg").read_bytes() == b"\xff\xd8first"
    assert local.url("reports/1/a.jpg") is None

    local.put("reports/1/a.jpg", b"second", "image/jpeg")
    assert local.get("reports/1/a.jpg") == b"second"

    local.delete("reports/1/a.jpg")
    assert not local.exists("reports/1/a.jpg")
    local.delete("reports/1/a.jpg")  # idempotent
    local.delete("never/there.jpg")


def test_local_missing_object(local):
    with pytest.raises(ObjectNotFound) as caught:
        local.get("reports/none.jpg")
    assert caught.value.key == "reports/none.jpg"
    assert isinstance(caught.value, StorageError)


def test_local_directory_is_not_an_object(local):
    local.put("reports/1/a.jpg", b"x", "image/jpeg")
    assert not local.exists("reports/1")
    with pytest.raises(ObjectNotFound):
        local.get("reports/1")
    local.delete("reports/1")
    assert local.get("reports/1/a.jpg") == b"x"


def test_local_accepts_bytes_like(local):
    local.put("a.bin", bytearray(b"abc"), "application/octet-stream")
    local.put("b.bin", memoryview(b"def"), "application/octet-stream")
    assert local.get("a.bin") + local.get("b.bin") == b"abcdef"


def test_local_files_are_readable_by_a_web_server(local):
    local.put("a.jpg", b"x", "image/jpeg")
    assert stat.S_IMODE((local.root / "a.jpg").stat().st_mode) == 0o644


@pytest.mark.parametrize("key", BAD_KEYS)
def test_local_refuses_bad_keys_on_every_operation(local, tmp_path, key):
    for call in (
        lambda: local.put(key, b"x", "image/jpeg"),
        lambda: local.get(key),
        lambda: local.exists(key),
        lambda: local.delete(key),
        lambda: local.url(key),
    ):
        with pytest.raises(ValueError):
            call()
    assert not (tmp_path / "etc").exists()
    assert not local.root.exists() or list(local.root.rglob("*")) == []


def test_local_failed_write_keeps_the_old_object_and_no_temp_file(local, monkeypatch):
    local.put("reports/a.jpg", b"old", "image/jpeg")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("jaki.media.storage.os.replace", broken_replace)
    with pytest.raises(StorageError, match="No space left"):
        local.put("reports/a.jpg", b"new", "image/jpeg")
    monkeypatch.undo()

    assert local.get("reports/a.jpg") == b"old"
    assert sorted(p.name for p in (local.root / "reports").iterdir()) == ["a.jpg"]


def test_local_write_leaves_no_temp_files(local):
    for index in range(5):
        local.put(f"r/{index}.jpg", bytes([index]) * 1000, "image/jpeg")
    assert sorted(p.name for p in (local.root / "r").iterdir()) == [f"{i}.jpg" for i in range(5)]


def test_local_readers_never_see_a_partial_write(local):
    versions = [bytes([value]) * 512 * 1024 for value in (1, 2)]
    local.put("busy.jpg", versions[0], "image/jpeg")
    stop = threading.Event()

    def writer():
        index = 0
        while not stop.is_set():
            index += 1
            local.put("busy.jpg", versions[index % 2], "image/jpeg")

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 1.0
        reads = 0
        while time.monotonic() < deadline:
            assert local.get("busy.jpg") in versions
            reads += 1
    finally:
        stop.set()
        thread.join(timeout=10)
    assert reads > 10


def test_local_unwritable_root_is_a_storage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    storage = LocalStorage(blocker)  # a file where the directory should be
    with pytest.raises(StorageError):
        storage.put("a.jpg", b"x", "image/jpeg")


# --- storage_from_config ---------------------------------------------------------------------------


def test_config_local(tmp_path):
    storage = storage_from_config({"STORAGE_BACKEND": "local", "STORAGE_LOCAL_ROOT": str(tmp_path)})
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path


def test_config_defaults_to_local(tmp_path):
    storage = storage_from_config({"STORAGE_BACKEND": "", "STORAGE_LOCAL_ROOT": str(tmp_path)})
    assert isinstance(storage, LocalStorage)


def test_config_of_the_test_settings():
    settings = {name: getattr(Testing, name) for name in dir(Testing) if name.isupper()}
    storage = storage_from_config(settings)
    assert isinstance(storage, LocalStorage)
    assert storage.root.name == "test-media"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"STORAGE_BACKEND": "local"}, "STORAGE_LOCAL_ROOT"),
        ({"STORAGE_BACKEND": "local", "STORAGE_LOCAL_ROOT": "  "}, "STORAGE_LOCAL_ROOT"),
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": None}, "S3_BUCKET"),
        ({"STORAGE_BACKEND": "gcs"}, "unknown STORAGE_BACKEND"),
    ],
)
def test_config_errors(config, message):
    with pytest.raises(ValueError, match=message):
        storage_from_config(config)


# --- S3Storage against moto's S3 server ------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_storage(endpoint: str, bucket: str, **options) -> S3Storage:
    return S3Storage(
        bucket,
        endpoint_url=endpoint,
        region="us-east-1",
        access_key="test-key",
        secret_key="test-secret",
        **options,
    )


@pytest.fixture
def bucket(s3_endpoint):
    name = f"jaki-{uuid.uuid4().hex[:12]}"
    s3_storage(s3_endpoint, name).client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3(s3_endpoint, bucket):
    return s3_storage(s3_endpoint, bucket)


def test_s3_round_trip(s3):
    assert isinstance(s3, Storage)
    assert not s3.exists("reports/1/a.jpg")

    s3.put("reports/1/a.jpg", b"\xff\xd8first", "image/jpeg")

    assert s3.exists("reports/1/a.jpg")
    assert s3.get("reports/1/a.jpg") == b"\xff\xd8first"
    head = s3.client.head_object(Bucket=s3.bucket, Key="reports/1/a.jpg")
    assert head["ContentType"] == "image/jpeg"

    s3.put("reports/1/a.jpg", bytearray(b"second"), "image/png")
    assert s3.get("reports/1/a.jpg") == b"second"

    s3.delete("reports/1/a.jpg")
    assert not s3.exists("reports/1/a.jpg")
    s3.delete("reports/1/a.jpg")  # idempotent
    s3.delete("never/there.jpg")


def test_s3_missing_object(s3):
    with pytest.raises(ObjectNotFound) as caught:
        s3.get("reports/none.jpg")
    assert caught.value.key == "reports/none.jpg"


def test_s3_large_object(s3):
    data = bytes(range(256)) * (6 * 1024 * 4)  # 6 MiB: a full-size upload before sanitising
    s3.put("big.bin", data, "application/octet-stream")
    assert s3.get("big.bin") == data


def test_s3_url(s3_endpoint, bucket, s3):
    assert s3.url("reports/a.jpg") is None
    public = s3_storage(s3_endpoint, bucket, public_base_url="https://cdn.jaki.example/photos/")
    assert public.url("reports/a.jpg") == "https://cdn.jaki.example/photos/reports/a.jpg"


@pytest.mark.parametrize("key", ["../x", "/abs", ".hidden", "a b"])
def test_s3_refuses_bad_keys_before_any_request(s3, key):
    for call in (
        lambda: s3.put(key, b"x", "image/jpeg"),
        lambda: s3.get(key),
        lambda: s3.exists(key),
        lambda: s3.delete(key),
        lambda: s3.url(key),
    ):
        with pytest.raises(ValueError):
            call()


def test_s3_missing_bucket_is_a_storage_error_not_a_missing_object(s3_endpoint):
    storage = s3_storage(s3_endpoint, "no-such-bucket-here")
    with pytest.raises(StorageError, match="NoSuchBucket") as caught:
        storage.put("a.jpg", b"x", "image/jpeg")
    assert not isinstance(caught.value, ObjectNotFound)
    with pytest.raises(StorageError) as caught:
        storage.get("a.jpg")
    assert not isinstance(caught.value, ObjectNotFound)


def test_s3_from_config(s3_endpoint, bucket):
    storage = storage_from_config(
        {
            "STORAGE_BACKEND": "S3",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": s3_endpoint,
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "test-key",
            "S3_SECRET_ACCESS_KEY": "test-secret",
            "S3_PUBLIC_BASE_URL": "",
        }
    )
    assert isinstance(storage, S3Storage)
    storage.put("from-config.jpg", b"ok", "image/jpeg")
    assert storage.get("from-config.jpg") == b"ok"
    assert storage.url("from-config.jpg") is None


def test_s3_client_has_timeouts_and_retries():
    pytest.importorskip("boto3")
    storage = S3Storage("b", endpoint_url="http://127.0.0.1:9", region="us-east-1", access_key="k", secret_key="s")
    config = storage.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (5, 30)
    assert config.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert config.s3 == {"addressing_style": "path"}


def test_s3_needs_both_keys_or_neither():
    with pytest.raises(ValueError, match="both"):
        S3Storage("b", access_key="k")
    with pytest.raises(ValueError, match="bucket"):
        S3Storage("")


# --- S3Storage against servers that misbehave ------------------------------------------------------


class FlakyHandler(BaseHTTPRequestHandler):
    """Answers every request with 503 (or stalls), counting how many it got."""

    requests = 0
    stall = 0.0

    def _answer(self):
        type(self).requests += 1
        if self.stall:
            time.sleep(self.stall)
            return  # the client has given up by now; hang up without answering
        body = b"<Error><Code>SlowDown</Code><Message>busy</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._answer()

    do_GET = do_HEAD = do_DELETE = _answer

    def log_message(self, format, *args):
        pass


@pytest.fixture
def flaky_server():
    pytest.importorskip("boto3")
    handler = type("Handler", (FlakyHandler,), {"requests": 0, "stall": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_s3_retries_server_errors_then_gives_up(flaky_server):
    handler, endpoint = flaky_server
    storage = s3_storage(endpoint, "bucket", max_attempts=2)
    with pytest.raises(StorageError, match="SlowDown"):
        storage.get("a.jpg")
    assert handler.requests == 2  # the first try and one retry


def test_s3_read_timeout_is_a_storage_error(flaky_server):
    handler, endpoint = flaky_server
    handler.stall = 2.0
    storage = s3_storage(endpoint, "bucket", read_timeout=0.3, max_attempts=1)
    started = time.monotonic()
    with pytest.raises(StorageError, match="timeout"):
        storage.get("a.jpg")
    assert time.monotonic() - started < 1.5


def test_s3_unreachable_endpoint_is_a_storage_error():
    pytest.importorskip("boto3")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    storage = s3_storage(f"http://127.0.0.1:{port}", "bucket", connect_timeout=0.5, max_attempts=1)
    with pytest.raises(StorageError, match="connect"):
        storage.exists("a.jpg")
