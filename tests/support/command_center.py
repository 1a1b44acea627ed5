"""A command center on the embedded default with a year of reports: for the browser test, and by hand.

`python -m tests.support.command_center serve INSTANCE_DIR [PORT]` seeds INSTANCE_DIR (reference data, Jakarta's
kelurahan, 3,000 reports over the last year spread as the bench spreads them, a command-center login) and serves it
with `flask run` until interrupted, printing the login.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.office import flask_run

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "pusat-komando-2026"


def seed(count: int) -> dict:
    """Run inside the server's environment: schema, reference data, areas, reports, a command-center account."""
    import random
    from datetime import timedelta

    from flask_migrate import upgrade

    from bench import reports_seed
    from jaki import create_app
    from jaki.db import utcnow
    from jaki.extensions import db
    from jaki.geo.operations import import_areas
    from jaki.reference import load
    from jaki.reports.models import Category, Report, ReportRating
    from tests.factories import make_user

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        import_areas(Path(app.config["SHARED_DATA_DIR"]) / "jakarta_kelurahan.geojson")
        list(load())
        db.session.commit()
        reporters = [make_user() for _ in range(40)]
        watcher = make_user(role="command_center", full_name="Pusat Komando", password=PASSWORD)
        db.session.commit()
        categories = [
            {"code": c.code, "agency_code": c.agency_code, "sla_hours": c.sla_hours}
            for c in db.session.scalars(db.select(Category))
        ]
        places = reports_seed.Places()
        now = utcnow()
        rows, _photos = reports_seed.generate(places, categories, [u.id for u in reporters], 0, count, now)
        reports = [dict(zip(reports_seed.REPORT_COLUMNS, row, strict=True)) for row in rows]
        rng = random.Random(14)
        for report in reports[:60]:  # some filed today, so the "today" tile shows a number
            report["created_at"] = report["updated_at"] = now - timedelta(minutes=rng.uniform(1, 300))
            report["status"], report["sla_due_at"] = "submitted", report["created_at"] + timedelta(hours=72)
            for field in ("verified_at", "dispatched_at", "resolved_at", "closed_at", "sla_breached_at"):
                report[field] = None
        db.session.execute(Report.__table__.insert(), reports)
        rated = [r for r in reports if r["status"] in ("resolved", "closed")][:400]
        scores = (3, 4, 4, 5, 5, 2)
        ratings = [
            {"report_id": r["id"], "user_id": r["reporter_id"], "score": rng.choice(scores), "created_at": now}
            for r in rated
        ]
        db.session.execute(ReportRating.__table__.insert(), ratings)
        db.session.commit()
        _applications(reporters, rng, now)
        return {"nik": watcher.nik, "password": PASSWORD, "reports": len(reports)}


def _applications(people, rng, now) -> None:
    """Permits and letters over the last months: most decided, some late, some still pending."""
    from datetime import timedelta

    from jaki.extensions import db
    from jaki.services.permits.models import Application, ApplicationType
    from jaki.services.permits.sla import add_working_days

    types = list(db.session.scalars(db.select(ApplicationType)))
    for n in range(160):
        kind = types[n % len(types)]
        submitted = now - timedelta(days=rng.uniform(2, 300))
        due = add_working_days(submitted, kind.sla_days)
        taken = timedelta(days=rng.uniform(0.2, 1.6) * kind.sla_days * 1.4)
        decided = submitted + taken if submitted + taken < now and rng.random() < 0.85 else None
        status = ("issued" if rng.random() < 0.85 else "rejected") if decided else "submitted"
        db.session.add(
            Application(
                reference=f"{kind.code}-SEED-{n:04d}",
                kind=kind.kind,
                type_code=kind.code,
                applicant_id=people[n % len(people)].id,
                area_code="31.74.05.1002",
                status=status,
                submitted_at=submitted,
                sla_due_at=due,
                decided_at=decided,
            )
        )
    db.session.commit()


def _env(instance_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "JAKI_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        FLASK_APP="wsgi.py",
        JAKI_ENV="development",
        JAKI_INSTANCE_DIR=str(instance_dir),
        JAKI_ARGON2_TIME_COST="1",
        JAKI_ARGON2_MEMORY_KIB="1024",
        JAKI_LOG_LEVEL="WARNING",
    )
    return env


@contextlib.contextmanager
def command_center_server(instance_dir: Path, count: int = 3000, port: int | None = None):
    """A seeded embedded default served by `flask run`; yields (base URL, login)."""
    env = _env(instance_dir)
    seeded = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "tests.support.command_center", "seed", str(count)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    login = json.loads(seeded.stdout.decode().strip().splitlines()[-1])
    with flask_run(env, instance_dir, port) as (base, _log):
        yield base, login


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        print(json.dumps(seed(int(sys.argv[2]))))
    elif sys.argv[1] == "serve":
        directory = Path(sys.argv[2])
        directory.mkdir(parents=True, exist_ok=True)
        with command_center_server(directory, port=int(sys.argv[3]) if len(sys.argv) > 3 else None) as (url, who):
            print(f"{url}/command-center  NIK {who['nik']}  password {who['password']}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    else:
        raise SystemExit(f"unknown command {sys.argv[1]}")
