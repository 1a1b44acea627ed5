"""Dependencies down: the driver errors meaning PostgreSQL, Redis or object storage is unreachable, as one 503."""

from __future__ import annotations

import logging

from jaki.errors import Unavailable, handle_jaki_error, handle_unexpected
from jaki.extensions import db
from jaki.media.storage import ObjectNotFound, StorageError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10  # long enough for a failover or a restart, short enough for a citizen to try again

# SQLite errors that say "busy or gone", not "bug" (a missing table is an OperationalError there too).
_SQLITE_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o")


def _database_down(exc) -> bool:
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.TimeoutError | sa.DisconnectionError):
        return True  # the pool had no connection to give, or lost it
    if not isinstance(exc, sa.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, sa.OperationalError | sa.InterfaceError):
        return False  # integrity, data and programming errors are answered elsewhere or are bugs
    if type(exc.orig).__module__.startswith("sqlite3"):
        return any(word in str(exc.orig).lower() for word in _SQLITE_TRANSIENT)
    # PostgreSQL's OperationalErrors are all transient: refused or lost connections, shutdowns, too many
    # connections, statement timeouts, serialization failures and deadlocks. A retry is the right answer.
    return True


def _redis_down(exc) -> bool:
    from redis import exceptions as r

    # BusyLoadingError (a restarted server still loading its data) is a ConnectionError too.
    return isinstance(exc, r.ConnectionError | r.TimeoutError | r.ReadOnlyError | r.MasterDownError)


def _storage_down(exc) -> bool:
    if isinstance(exc, ObjectNotFound):
        return False
    if isinstance(exc, StorageError):
        return True
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
    except ImportError:  # pragma: no cover - boto3 is a runtime requirement
        return False
    return isinstance(exc, BotoConnectionError | EndpointConnectionError | ReadTimeoutError)


def unavailable_dependency(exc: BaseException) -> str | None:
    """ "database", "redis" or "storage" when exc means that dependency cannot be reached; else None."""
    for name, test in (("redis", _redis_down), ("database", _database_down), ("storage", _storage_down)):
        if test(exc):
            return name
    return None


def as_unavailable(exc: BaseException):
    """The JakiError (503 service_unavailable, Retry-After) to answer for exc, or None if exc is something else."""
    dependency = unavailable_dependency(exc)
    if dependency is None:
        return None
    # Which dependency and why go to the log (with the request id); the citizen gets the one stable code.
    log.warning("dependency unavailable", extra={"dependency": dependency, "error": type(exc).__name__})
    return Unavailable(headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection may be the thing that is gone
        log.debug("rollback after an outage failed", exc_info=True)


def handle(exc: Exception):
    error = as_unavailable(exc)
    if error is None:
        return handle_unexpected(exc)
    _rollback()
    return handle_jaki_error(error)


def exception_classes() -> tuple[type[BaseException], ...]:
    """Every class handle() decides on: the app registers it for each, so they never reach the generic 500."""
    from redis import exceptions as r
    from sqlalchemy import exc as sa

    classes = [r.ConnectionError, r.TimeoutError, r.ReadOnlyError, sa.DBAPIError, sa.TimeoutError, StorageError]
    classes.append(sa.DisconnectionError)
    try:
        from botocore.exceptions import BotoCoreError

        classes.append(BotoCoreError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(classes)


def register(app) -> None:
    for cls in exception_classes():
        app.register_error_handler(cls, handle)
