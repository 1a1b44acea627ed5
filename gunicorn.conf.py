"""gunicorn settings for jaki: the production check before any worker starts, JSON logs, multiprocess metrics."""

# gunicorn reads this file from the working directory by itself: `gunicorn --workers 4 --bind 0.0.0.0:8000` is
# enough. Command-line options override what is set here.

import os
import shutil
import tempfile
from pathlib import Path

wsgi_app = "wsgi:app"
accesslog = None  # jaki writes one JSON line per request itself (route template, user id, request id)
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "jaki.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},  # each worker's app then applies JAKI_LOG_LEVEL
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        # With a logconfig_dict gunicorn writes access lines again; jaki's own (jaki.access) are the ones kept.
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}


_made_dir: list[str] = []


def on_starting(server):
    """Refuse to start, with gunicorn's one-line error, on the settings `flask` commands refuse."""
    # prometheus-client picks its storage when first imported, in each worker: the directory must be in the
    # environment before then (and before config reads it), so every worker's counters land in files that
    # /metrics adds up. The operator may set it (a tmpfs is best); otherwise the master makes one.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="jaki-prometheus-")
        _made_dir.append(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    # Files left by an earlier master would be added to this one's counts.
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink(missing_ok=True)

    from config import Production, get_config
    from config.production import ConfigurationError

    try:
        settings = get_config()
        if issubclass(settings, Production):
            settings.check()
    except ConfigurationError as exc:
        on_exit(server)
        raise RuntimeError(exc.message) from None  # gunicorn prints "Error: <message>" and exits 1


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for directory in _made_dir:
        shutil.rmtree(directory, ignore_errors=True)
