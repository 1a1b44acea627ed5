"""The citizen's access log (jaki.pdp): a page read among 300,000 entries, and what recording one read costs."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import timedelta

from bench.util import fresh_pg_database

TOTAL = 300_000  # entries in the table, over this many people
PEOPLE = 30_000
MINE = 2_000  # the measured citizen's own entries, spread through the table
BATCH = 10_000


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000, 2)


def run() -> dict:
    from flask_migrate import upgrade

    from jaki import create_app
    from jaki.extensions import db

    url = fresh_pg_database("bench_pdp_access_log")
    if url:
        overrides = {"SQLALCHEMY_DATABASE_URI": url}
    else:
        path = os.path.join(tempfile.gettempdir(), "bench_pdp_access_log.sqlite3")
        if os.path.exists(path):
            os.remove(path)
        overrides = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    app = create_app({**overrides, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade(revision="heads")
        return _measure(app, db, "postgresql" if url else "sqlite")


def _measure(app, db, backend: str) -> dict:
    from flask_jwt_extended import create_access_token

    from jaki import audit
    from jaki.agencies.models import Agency
    from jaki.db import utcnow
    from jaki.pdp.models import AccessLogEntry
    from tests.factories import make_user

    rng = random.Random(16)
    citizen = make_user(full_name="Warga Bench")
    officer_agency = Agency(code="DINKES", name="Dinas Kesehatan", short_name="Kesehatan")
    db.session.add(officer_agency)
    officer = make_user(role="officer", agency_code="DINKES", areas=["31.74"])
    db.session.commit()
    mine_at = set(rng.sample(range(TOTAL), MINE))
    now = utcnow()
    table = AccessLogEntry.__table__
    started = time.perf_counter()
    for start in range(0, TOTAL, BATCH):
        rows = [
            {
                "at": now - timedelta(seconds=TOTAL - n),
                "subject_index": citizen.nik_index if n in mine_at else f"s{rng.randrange(PEOPLE):060d}",
                "kind": "agency_pull" if n % 3 else "official",
                "action": "services.health.pull",
                "agency_code": "DINKES",
                "system": "connector:health",
                "fields": "jkn,immunisations,visits",
                "purpose": "overview",
                "lawful_basis": "public_duty",
                "break_glass": False,
            }
            for n in range(start, min(start + BATCH, TOTAL))
        ]
        db.session.execute(table.insert(), rows)
        db.session.commit()
    seeded_s = time.perf_counter() - started
    if backend == "postgresql":
        from sqlalchemy import text

        db.session.execute(text("ANALYZE pdp_access_log"))  # what autovacuum does after a bulk load
        db.session.commit()

    client = app.test_client()
    token = create_access_token(identity=citizen.id, additional_claims={"role": "citizen"})
    headers = {"Authorization": f"Bearer {token}"}
    first, deep = [], []
    cursor = None
    for _ in range(60):
        t = time.perf_counter()
        answer = client.get("/api/v1/me/access-log?limit=20", headers=headers)
        first.append(time.perf_counter() - t)
        assert answer.status_code == 200, answer.get_json()
    for _ in range(60):  # walking back through the citizen's 2,000 entries, 20 at a time
        t = time.perf_counter()
        answer = client.get(
            "/api/v1/me/access-log?limit=20" + (f"&cursor={cursor}" if cursor else ""), headers=headers
        ).get_json()
        deep.append(time.perf_counter() - t)
        cursor = answer["next_cursor"]

    reads = []
    for n in range(300):
        t = time.perf_counter()
        audit.record(db.session, actor=officer, subject_id=citizen.id, action="user.read", reason=f"bench {n}")
        db.session.commit()
        reads.append(time.perf_counter() - t)
    baseline = []
    for n in range(300):  # the audit row alone, as before issue 16 (same transaction shape)
        t = time.perf_counter()
        db.session.add(audit.AuditEntry(actor_id=officer.id, subject_id=citizen.id, action="user.read", reason=str(n)))
        db.session.commit()
        baseline.append(time.perf_counter() - t)
    return {
        "backend": backend,
        "notes": (
            f"{TOTAL:,} access-log entries over {PEOPLE:,} people, {MINE:,} the measured citizen's; in-process test "
            "client (no HTTP); a read = jaki.audit.record (audit row, access-log row, new-agency check) + commit"
        ),
        "seed_seconds": round(seeded_s, 1),
        "first_page_ms": {"p50": _pct(first, 0.5), "p95": _pct(first, 0.95)},
        "walking_pages_ms": {"p50": _pct(deep, 0.5), "p95": _pct(deep, 0.95)},
        "audited_read_ms": {
            "p50": _pct(reads, 0.5),
            "p95": _pct(reads, 0.95),
            "mean": round(statistics.mean(reads) * 1000, 2),
        },
        "audit_row_only_ms": {"p50": _pct(baseline, 0.5), "p95": _pct(baseline, 0.95)},
    }
