"""Evidence checks at scale (issue 15): the reused-photo lookup among 100,000 evidence photos of the last 90 days,
the perceptual hash of a 12-megapixel photo, appending to the hash-chained log and walking it (embedded SQLite)."""

from __future__ import annotations

import io
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

PHOTOS = 100_000
CHAIN = 2_000


def _ms(function, repeat: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        function()
    return round((time.perf_counter() - started) / repeat * 1000, 2)


def run() -> dict:
    from flask_migrate import upgrade
    from PIL import Image

    from config import Development
    from jaki import create_app
    from jaki.db import new_uuid, utcnow
    from jaki.extensions import db
    from jaki.media import phash
    from jaki.reports import evidence
    from jaki.reports.models import PhotoHashBand, Report, ReportPhoto
    from tests.reports.factories import report_row

    folder = Path(tempfile.mkdtemp(prefix="jaki-bench-evidence-"))

    class Bench(Development):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'bench.sqlite3'}"
        STORAGE_LOCAL_ROOT = str(folder / "media")

    app = create_app(Bench)
    rng = random.Random(15)
    with app.app_context():
        upgrade(revision="heads")
        from jaki.agencies.registry import upsert_registry
        from jaki.reports.reference import load_categories

        upsert_registry(db.session)
        load_categories()
        row = report_row(-6.271, 106.777)
        db.session.execute(Report.__table__.insert(), [row])
        now = utcnow()
        photos, bands = [], []
        for n in range(PHOTOS):
            hash_hex = f"{rng.getrandbits(64):016x}"
            photo_id = new_uuid()
            at = now - timedelta(days=rng.uniform(0, 89))
            photos.append(
                {
                    "id": photo_id,
                    "report_id": row["id"],
                    "kind": "evidence",
                    "position": n,
                    "round": 0,
                    "storage_key": f"bench/{photo_id}.jpg",
                    "content_type": "image/jpeg",
                    "width": 1,
                    "height": 1,
                    "size_bytes": 1,
                    "sha256": "0" * 64,
                    "phash": hash_hex,
                    "created_at": at,
                }
            )
            bands.extend(
                {"photo_id": photo_id, "band": b, "value": v, "phash": hash_hex, "kind": "evidence", "created_at": at}
                for b, v in enumerate(phash.bands(hash_hex))
            )
        db.session.execute(ReportPhoto.__table__.insert(), photos)
        db.session.execute(PhotoHashBand.__table__.insert(), bands)
        db.session.commit()
        report = db.session.get(Report, row["id"])
        other = Report(**{**report_row(-6.272, 106.778), "id": new_uuid()})
        db.session.add(other)
        db.session.commit()
        fresh = f"{rng.getrandbits(64):016x}"
        near = f"{int(photos[777]['phash'], 16) ^ 0b1010001:016x}"  # 3 bits from an existing photo
        miss_ms = _ms(lambda: evidence.find_reused(other, fresh, utcnow()), 20)
        hit_ms = _ms(lambda: evidence.find_reused(other, near, utcnow()), 20)
        assert evidence.find_reused(other, near, utcnow()) is not None
        assert evidence.find_reused(other, fresh, utcnow()) is None

        image = Image.effect_noise((4000, 3000), 40).convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        big = buffer.getvalue()
        dhash_ms = _ms(lambda: phash.dhash(big), 3)

        content = {
            "report_id": report.id,
            "photo_id": "p",
            "round": 0,
            "phase": "after",
            "actor_id": None,
            "at": utcnow(),
            "captured_at": utcnow(),
            "latitude": -6.271,
            "longitude": 106.777,
            "accuracy_m": 5.0,
            "distance_m": 10.0,
            "sha256": "a" * 64,
            "stored_sha256": "b" * 64,
            "phash": fresh,
        }

        def append():
            evidence.append_log(**content)
            db.session.commit()

        append_ms = _ms(append, CHAIN)
        verify_ms = _ms(lambda: evidence.verify_chain(), 3)
    return {
        "notes": "embedded SQLite, one process, 2 cores (another helper's tests may run beside it); lookups against "
        "100,000 evidence photos spread over 89 days",
        "evidence_photos": PHOTOS,
        "reused_lookup_miss_ms": miss_ms,
        "reused_lookup_hit_ms": hit_ms,
        "dhash_12mp_jpeg_ms": dhash_ms,
        "jpeg_bytes": len(big),
        "chain_rows": CHAIN,
        "append_log_ms_each": append_ms,
        "verify_chain_ms": verify_ms,
    }
