"""One connector interface per domain: a local one over jaki's tables and an HTTP one over the agency's REST API."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from jaki.agencies.registry import record_domain
from jaki.clients.agencies import agency_client
from jaki.clients.agency_client import AgencyClient, AgencyNotFound, AgencySchema
from jaki.settings import setting

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subject:
    """A person whose records a connector fetches. The NIK never leaves the process except to the agency."""

    member_id: str
    nik: str = field(repr=False)
    nik_index: str = field(repr=False)


class Connector:
    domain: ClassVar[str]
    agency_code: ClassVar[str]
    kind: ClassVar[str]


class LocalConnector(Connector):
    """Answers from jaki's own tables; runs in the request thread with its session (it is fast)."""

    kind = "local"

    def fetch(self, subjects: list[Subject]) -> dict[str, dict]:
        """member_id -> that person's records in this domain (JSON-able)."""
        raise NotImplementedError


class HttpConnector(Connector):
    """Answers from the agency's API. fetch_one runs in a pool thread: no app context, no database session."""

    kind = "http"
    path: ClassVar[str]  # POSTed {"nik": ...}: the NIK travels in the body, never in a URL (UU PDP)
    schema: ClassVar[type[AgencySchema]]

    def __init__(self, client: AgencyClient):
        self.client = client

    def fetch_one(self, subject: Subject) -> dict:
        try:
            loaded = self.client.query_json(self.path, {"nik": subject.nik}, schema=self.schema)
        except AgencyNotFound:
            return self.empty()
        return self.present(loaded)

    def empty(self) -> dict:
        raise NotImplementedError

    def present(self, loaded: dict) -> dict:
        """The validated answer in jaki's own shape: nothing the agency sent is passed through unchecked."""
        raise NotImplementedError


@dataclass(frozen=True)
class DomainSpec:
    name: str
    agency_code: str  # who answers (and whose officers may read it)
    local: type[LocalConnector]
    http: type[HttpConnector] | None
    dependents: bool  # whether the head of family sees the children's records too
    officer_agencies: tuple[str, ...] = ()


SPECS: dict[str, DomainSpec] = {}
ORDER = ("health", "education", "social_aid", "tax", "permits", "letters")


def register_domain(spec: DomainSpec) -> None:
    SPECS[spec.name] = spec
    record_domain(spec.name, spec.agency_code)  # the agencies room reads it, never this module


def domains() -> list[str]:
    return [name for name in ORDER if name in SPECS]


# --- connectors and the thread pool ---------------------------------------------------------------------


def connector_for(domain: str) -> Connector:
    spec = SPECS[domain]
    client = agency_client(spec.agency_code) if spec.http is not None else None
    if client is None:
        return spec.local()
    return spec.http(client)


_pool: tuple[int, int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """A bounded pool per process, made on first use so a forked gunicorn worker never inherits threads."""
    global _pool
    size = int(setting("SERVICES_POOL_SIZE"))
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] != size:
            if _pool is not None and _pool[0] == os.getpid():
                _pool[2].shutdown(wait=False)  # resized: running calls finish by their own deadlines
            _pool = (os.getpid(), size, ThreadPoolExecutor(max_workers=size, thread_name_prefix="agency"))
        return _pool[2]


# --- shared presentation helpers -------------------------------------------------------------------------


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat()


def mask_number(value: str | None, keep: int = 4) -> str | None:
    """Card and account numbers are shown with their last digits only."""
    if not value:
        return None
    text = "".join(ch for ch in str(value) if ch.isalnum())
    return "*" * max(len(text) - keep, 0) + text[-keep:]
