"""Object storage for photos: a local directory on the embedded default, S3-compatible in production."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import quote

from flask import current_app

# Segments start with a letter, digit, "_" or "-": that rules out "..", "." and hidden names, which
# LocalStorage keeps for its temporary files.
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")
MAX_KEY_LENGTH = 512


class StorageError(Exception):
    """The storage backend failed (unreachable, refused, misconfigured)."""


class ObjectNotFound(StorageError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no object stored under {key!r}")


@runtime_checkable
class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def url(self, key: str) -> str | None: ...


def validate_key(key: str) -> str:
    """Return key if it is a safe relative object name (e.g. "reports/2024/abc.jpg"), else ValueError."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class LocalStorage:
    """Files under root. Writes are atomic: readers see the old object or the new one, never a part."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # The content type is not kept: whoever serves the file has it from the database or the key.
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError as exc:
            raise StorageError(f"cannot write {key!r} under {self.root}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide photos from a web server serving root
            os.replace(tmp, path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise StorageError(f"cannot write {key!r} under {self.root}: {exc}") from exc
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read {key!r} under {self.root}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except (IsADirectoryError, NotADirectoryError):
            pass  # a "directory" is a prefix shared by other objects, not an object itself
        except OSError as exc:
            raise StorageError(f"cannot delete {key!r} under {self.root}: {exc}") from exc

    def url(self, key: str) -> str | None:
        validate_key(key)
        return None


class S3Storage:
    """A bucket on AWS S3 or an S3-compatible server (MinIO, Ceph, R2...) through boto3."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        public_base_url: str | None = None,
        *,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        max_attempts: int = 4,
    ) -> None:
        if not bucket:
            raise ValueError("S3Storage needs a bucket")
        if bool(access_key) != bool(secret_key):
            raise ValueError("set both the S3 access key id and secret access key, or neither")
        # Imported here so the local backend (and the tests) work without boto3 installed.
        import boto3
        from botocore.config import Config

        options: dict = {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            # "standard" retries throttling, 5xx and connection errors with jittered backoff.
            # total_max_attempts counts the first try; botocore's own "max_attempts" would not.
            "retries": {"total_max_attempts": max_attempts, "mode": "standard"},
            "signature_version": "s3v4",
        }
        if endpoint_url:
            # Self-hosted servers usually have no wildcard DNS for bucket subdomains, and many reject
            # the CRC checksums newer botocore adds to every upload.
            options["s3"] = {"addressing_style": "path"}
            options["request_checksum_calculation"] = "when_required"
            options["response_checksum_validation"] = "when_required"
        credentials = {}
        if access_key:
            credentials = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key}
        # A session per storage: boto3's default session is shared module state and not thread-safe.
        session = boto3.session.Session()
        self.client = session.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=Config(**options), **credentials
        )
        self.bucket = bucket
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, endpoint_url={self.client.meta.endpoint_url!r})"

    def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        self._call("put_object", Key=key, Body=bytes(data), ContentType=content_type)

    def get(self, key: str) -> bytes:
        validate_key(key)
        response = self._call("get_object", Key=key)
        body = response["Body"]
        try:
            return body.read()
        except Exception as exc:
            raise StorageError(f"reading {key!r} from S3 failed: {exc}") from exc
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            self._call("head_object", Key=key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        validate_key(key)
        self._call("delete_object", Key=key)  # S3 answers 204 for a missing key too

    def url(self, key: str) -> str | None:
        validate_key(key)
        if self.public_base_url is None:
            return None
        return f"{self.public_base_url}/{quote(key, safe='/')}"

    def _call(self, operation: str, **params):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            # HEAD responses have no body, so a missing key shows only as a bare 404.
            if error.get("Code") in ("NoSuchKey", "404", "NotFound") or (
                status == 404 and error.get("Code") != "NoSuchBucket"
            ):
                raise ObjectNotFound(params.get("Key", "")) from None
            raise StorageError(f"S3 {operation} failed: {error.get('Code')} {error.get('Message')}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 {operation} failed: {exc}") from exc


def storage_from_config(config: Mapping[str, object]) -> Storage:
    """Build the storage a Flask config (or any mapping) names; empty values count as unset."""

    def setting(name: str) -> str | None:
        value = config.get(name)
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    backend = (setting("STORAGE_BACKEND") or "local").lower()
    if backend == "local":
        root = setting("STORAGE_LOCAL_ROOT")
        if root is None:
            raise ValueError("STORAGE_BACKEND=local needs STORAGE_LOCAL_ROOT")
        return LocalStorage(Path(root))
    if backend == "s3":
        bucket = setting("S3_BUCKET")
        if bucket is None:
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        return S3Storage(
            bucket,
            endpoint_url=setting("S3_ENDPOINT_URL"),
            region=setting("S3_REGION"),
            access_key=setting("S3_ACCESS_KEY_ID"),
            secret_key=setting("S3_SECRET_ACCESS_KEY"),
            public_base_url=setting("S3_PUBLIC_BASE_URL"),
        )
    raise ValueError(f"unknown STORAGE_BACKEND {backend!r}: use 'local' or 's3'")


def app_storage() -> Storage:
    """The running app's object storage, built once from its config and kept on the app (the one accessor)."""
    store = current_app.extensions.get("jaki.storage")
    if store is None:
        store = storage_from_config(current_app.config)
        current_app.extensions["jaki.storage"] = store
    return store
