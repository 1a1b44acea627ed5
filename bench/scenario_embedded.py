"""The embedded default under a small office: N people at once against `flask run` on a SQLite file (real argon2)."""

from __future__ import annotations

import tempfile
from pathlib import Path

PASSWORD = "bench-kantor-kecil-2026"


def run() -> dict:
    from tests.support import office

    results = {}
    for people in (12, 30):
        with tempfile.TemporaryDirectory() as instance:
            settings = {"JAKI_REPORTS_CREATE_RATE": "1000 per minute", "JAKI_LOG_LEVEL": "WARNING"}
            with office.embedded_server(Path(instance), people, PASSWORD, **settings) as (base, niks, log):
                result = office.run(base, PASSWORD, niks, rounds=2, feed_reads=3)
                locked = sum("database is locked" in line for line in log.read_text().splitlines())
        results[f"{people}_people"] = {**result.summary(), "database_is_locked_log_lines": locked}
    return {
        "notes": "flask run (Werkzeug, threaded) on a SQLite file, jobs in-process; each person logs in once at the "
        "same moment, then twice files a report and reads the feed three times and their own reports once. "
        "Logins are argon2id at the default 64 MiB, 3 passes: on 2 cores they dominate the login latencies.",
        **results,
    }
