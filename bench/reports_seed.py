"""Seeding for the reports bench: app data through the app's code, then reports bulk-copied with psycopg 3."""

from __future__ import annotations

import json
import math
import random
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jaki.geo.cells import cell_of
from jaki.geo.spatial import M_PER_DEG, AreaIndex, in_jakarta_bbox

AREAS_FILE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "jakarta_kelurahan.geojson"
PASSWORD = "bench-password-2026"
SEED = 2026

# Rough shares of what Jakartans report (Qlue/CRM categories: rubbish, roads and parking lead).
CATEGORY_WEIGHTS = {
    "sampah": 20,
    "jalan_rusak": 18,
    "parkir_liar": 12,
    "banjir": 10,
    "lampu_jalan": 10,
    "saluran_tersumbat": 10,
    "pohon_tumbang": 5,
    "fasilitas_umum": 5,
    "trotoar_rusak": 5,
    "pkl_liar": 5,
}
# Status mix by age: new reports are still open; after two weeks nearly all are closed (2024: 96.8% resolved).
STATUS_BY_AGE = (
    (2, {"submitted": 40, "verified": 25, "dispatched": 15, "in_progress": 15, "rejected": 5}),
    (
        14,
        {
            "submitted": 5,
            "verified": 10,
            "dispatched": 15,
            "in_progress": 25,
            "resolved": 30,
            "closed": 10,
            "rejected": 3,
            "duplicate": 2,
        },
    ),
    (366, {"closed": 86, "resolved": 5, "in_progress": 2, "dispatched": 1, "rejected": 3.5, "duplicate": 2.5}),
)
PHOTO_SHARE = 0.6  # reports filed with a photo
ANONYMOUS_SHARE = 0.2

REPORT_COLUMNS = (
    "id",
    "reporter_id",
    "source",
    "category_code",
    "description",
    "address",
    "latitude",
    "longitude",
    "cell",
    "anonymous",
    "status",
    "kelurahan_code",
    "kecamatan_code",
    "kota_code",
    "routing_distance_m",
    "agency_code",
    "version",
    "sla_due_at",
    "sla_breached_at",
    "verified_at",
    "dispatched_at",
    "resolved_at",
    "closed_at",
    "resolution_note",
    "rejection_reason",
    "support_count",
    "reopen_count",
    "created_at",
    "updated_at",
)
PHOTO_COLUMNS = (
    "id",
    "report_id",
    "kind",
    "position",
    "round",
    "storage_key",
    "thumbnail_key",
    "content_type",
    "width",
    "height",
    "size_bytes",
    "sha256",
    "uploaded_by_id",
    "created_at",
)


# ---- app data (run in a child process: settings are read from the environment at import) ----------------


def setup_app_data(users: int, token_users: int) -> dict:
    """Agencies, categories and bench citizens through the app's own code; access tokens for token_users."""
    from datetime import date

    from flask_jwt_extended import create_access_token

    from config import get_config
    from jaki import create_app
    from jaki import demo as jaki_demo
    from jaki.auth import nik as nik_mod
    from jaki.auth.crypto import hash_password
    from jaki.auth.models import User
    from jaki.db import utcnow
    from jaki.extensions import db
    from jaki.reports import demo as reports_demo
    from jaki.reports.models import Category

    app = create_app(get_config("development"))
    with app.app_context():
        jaki_demo._upsert_agencies()  # the demo's own agency list, without its demo people
        db.session.commit()
        reports_demo.seed_categories()
        stored = hash_password(PASSWORD)  # one argon2 hash for everyone: hashing 2000 would take minutes
        people = []
        for i in range(users):
            born = date(1970 + i % 30, 1 + i % 12, 1 + i % 28)
            user = User(
                role="citizen",
                status="active",
                full_name=f"Warga Bench {i:04d} Santoso",
                birth_date=born,
                sex="M" if i % 2 else "F",
                password_hash=stored,
                phone_verified_at=utcnow(),
            )
            user.nik = nik_mod.build("317405", born, user.sex, 6000 + i)
            user.phone = f"+62813{6000 + i:08d}"
            db.session.add(user)
            people.append(user)
        db.session.commit()
        tokens = [create_access_token(identity=u.id, additional_claims={"role": u.role}) for u in people[:token_users]]
        categories = [
            {
                "code": c.code,
                "agency_code": c.agency_code,
                "sla_hours": c.sla_hours,
                "duplicate_radius_m": c.duplicate_radius_m,
            }
            for c in db.session.query(Category)
        ]
        return {"user_ids": [u.id for u in people], "tokens": tokens, "categories": categories}


def explain(samples: dict) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the exact SQL the operations run (captured from the cursor), summarised."""
    from sqlalchemy import event

    from config import get_config
    from jaki import create_app
    from jaki.extensions import db
    from jaki.reports import map as report_map
    from jaki.reports import queries
    from jaki.reports.models import Category

    app = create_app(get_config("development"))
    out: dict = {}
    with app.app_context():

        def capture(run) -> list[tuple[str, object]]:
            seen = []

            def listener(conn, cursor, statement, parameters, context, executemany):
                if (
                    "FROM reports" in statement or "FROM report_map_tiles" in statement
                ) and statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    seen.append((statement, parameters))

            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                run()
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            return seen

        lat, lon = samples["point"]
        box = samples["box"]
        cursor = queries.list_reports(limit=20).next_cursor
        dup = samples["duplicate"]
        category = db.session.get(Category, dup["category_code"])
        cases = {
            "nearby": lambda: queries.nearby(lat, lon, samples["radius_m"]),
            "viewport_pins": lambda: queries.reports_in_bbox(*box),
            "viewport_map": lambda: report_map.map_view(*box),
            "viewport_city": lambda: report_map.map_view(-6.38, 106.68, -6.08, 106.98),
            "feed_first_page": lambda: queries.list_reports(limit=20),
            "feed_page_2": lambda: queries.list_reports(limit=20, cursor=cursor),
            "feed_category": lambda: queries.list_reports(categories=[samples["category"]], limit=20),
            "duplicate_check": lambda: queries.find_duplicates(category, dup["latitude"], dup["longitude"]),
        }
        for name, run in cases.items():
            plans = []
            for statement, parameters in capture(run):
                db.session.rollback()
                raw = (
                    db.session.connection()
                    .exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
                    .scalar()
                )
                plans.append((raw if isinstance(raw, list) else json.loads(raw))[0])
            db.session.rollback()
            out[name] = summarise_plans(plans)
    return out


def summarise_plans(plans: list[dict]) -> dict:
    """Index names, scan kinds (with rows), timings and buffers of an operation's EXPLAIN (ANALYZE) plans."""
    indexes: list[str] = []
    scans: dict[str, list[int]] = {}

    def walk(node: dict) -> None:
        name = node.get("Index Name")
        if name and name not in indexes:
            indexes.append(name)
        if node.get("Relation Name") in ("reports", "report_categories", "report_map_tiles"):
            kind = f"{node['Node Type']} on {node['Relation Name']}" + (f" using {name}" if name else "")
            seen = scans.setdefault(kind, [0, 0, 0])
            seen[0] += 1
            seen[1] += node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
            seen[2] += node.get("Heap Fetches", 0)
        for child in node.get("Plans", []):
            walk(child)

    for plan in plans:
        walk(plan["Plan"])
    return {
        "statements": len(plans),
        "indexes": indexes,
        "seq_scan_on_reports": any(kind.startswith("Seq Scan on reports") for kind in scans),
        "scans": [
            f"{kind}: {n} node(s), {rows} rows" + (f", {heap} heap fetches" if "Only" in kind else "")
            for kind, (n, rows, heap) in scans.items()
        ],
        "execution_ms": round(sum(p.get("Execution Time", 0.0) for p in plans), 3),
        "planning_ms": round(sum(p.get("Planning Time", 0.0) for p in plans), 3),
        "shared_buffers_hit": sum(p["Plan"].get("Shared Hit Blocks", 0) for p in plans),
        "shared_buffers_read": sum(p["Plan"].get("Shared Read Blocks", 0) for p in plans),
    }


# ---- where reports are: clustered around kelurahan centroids --------------------------------------------


def _centroid(ring: list) -> tuple[float, float, float]:
    """(lat, lon, area in km^2) of a ring by the shoelace formula on a local flat projection."""
    lat0 = sum(p[1] for p in ring) / len(ring)
    kx = M_PER_DEG * math.cos(math.radians(lat0)) / 1000
    ky = M_PER_DEG / 1000
    a = cx = cy = 0.0
    for n in range(len(ring)):
        x1, y1 = ring[n - 1][0] * kx, ring[n - 1][1] * ky
        x2, y2 = ring[n][0] * kx, ring[n][1] * ky
        cross = x1 * y2 - x2 * y1
        a += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    if abs(a) < 1e-12:
        return lat0, sum(p[0] for p in ring) / len(ring), 0.0
    return cy / (3 * a) / ky, cx / (3 * a) / kx, abs(a) / 2


@dataclass(frozen=True)
class Kelurahan:
    code: str
    lat: float
    lon: float
    sigma_m: float
    weight: float


class Places:
    """Kelurahan centroids with a busyness weight; points scattered normally around them."""

    def __init__(self, path: Path = AREAS_FILE, seed: int = SEED) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        rng = random.Random(seed)
        self.index = AreaIndex.from_geojson(data)
        self.kelurahan: list[Kelurahan] = []
        for feature in sorted(data["features"], key=lambda f: f["properties"]["kode_kel"]):
            geometry = feature["geometry"]
            polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
            lat, lon, area = max((_centroid(p[0]) for p in polygons), key=lambda c: c[2])
            code = feature["properties"]["kode_kel"]
            # Kepulauan Seribu's islands report little; elsewhere busyness varies several-fold.
            weight = rng.lognormvariate(0, 0.7) * (0.03 if code.startswith("31.01.") else 1.0)
            self.kelurahan.append(Kelurahan(code, lat, lon, max(150.0, 350.0 * math.sqrt(area)), weight))
        self._weights = [k.weight for k in self.kelurahan]
        self.mainland = [k for k in self.kelurahan if not k.code.startswith("31.01.")]

    def point(self, rng: random.Random, mainland: bool = False) -> tuple[float, float]:
        """A point where reports are made (inside Jakarta's bbox; resampled a few times to land in an area)."""
        pool, weights = (self.mainland, None) if mainland else (self.kelurahan, self._weights)
        if weights is None:
            weights = [k.weight for k in pool]
        lat = lon = 0.0
        for _ in range(4):
            k = rng.choices(pool, weights)[0]
            lat = k.lat + rng.gauss(0, k.sigma_m) / M_PER_DEG
            lon = k.lon + rng.gauss(0, k.sigma_m) / (M_PER_DEG * math.cos(math.radians(k.lat)))
            if in_jakarta_bbox(lat, lon) and self.index.locate(lat, lon) is not None:
                break
        return lat, lon


# ---- bulk rows ------------------------------------------------------------------------------------------

DESCRIPTIONS = {
    "jalan_rusak": "Jalan berlubang cukup dalam, membahayakan pengendara motor terutama malam hari",
    "banjir": "Genangan air setinggi lutut setelah hujan deras, kendaraan kecil tidak bisa lewat",
    "sampah": "Tumpukan sampah di pinggir jalan belum diangkut sejak tiga hari",
    "pohon_tumbang": "Pohon tumbang menutup sebagian jalan setelah angin kencang",
    "lampu_jalan": "Lampu penerangan jalan mati di sepanjang ruas ini, jalan sangat gelap",
    "parkir_liar": "Mobil parkir di bahu jalan sehingga menyebabkan kemacetan pada jam sibuk",
    "saluran_tersumbat": "Saluran air tersumbat sampah, air meluap ke jalan saat hujan",
    "fasilitas_umum": "Bangku dan pagar taman rusak, besi tajam mencuat",
    "trotoar_rusak": "Trotoar amblas dan ubinnya lepas, pejalan kaki terpaksa turun ke jalan",
    "pkl_liar": "Pedagang menutup trotoar sehingga pejalan kaki harus berjalan di jalan raya",
}
_STREETS = ("Jl. Melati", "Jl. Kenanga", "Jl. Mawar", "Gg. Haji Saleh", "Jl. Raya", "Jl. Masjid", "Jl. Kebon Jeruk")


def _pick(rng: random.Random, table: dict) -> str:
    return rng.choices(list(table), list(table.values()))[0]


def generate(
    places: Places, categories: list[dict], reporter_ids: list[str], start: int, count: int, now: datetime
) -> tuple[list[tuple], list[tuple]]:
    """Report and photo rows number start..start+count-1 (deterministic per number range)."""
    rng = random.Random(SEED * 1_000_003 + start)
    by_code = {c["code"]: c for c in categories}
    codes = [c for c in CATEGORY_WEIGHTS if c in by_code]
    weights = [CATEGORY_WEIGHTS[c] for c in codes]
    reports, photos = [], []
    for _ in range(count):
        lat, lon = places.point(rng)
        found = places.index.locate(lat, lon)
        code = rng.choices(codes, weights)[0]
        category = by_code[code]
        age = timedelta(seconds=rng.uniform(0, 365 * 86400))
        created = now - age
        days = age.total_seconds() / 86400
        status = _pick(rng, next(mix for limit, mix in STATUS_BY_AGE if days < limit))
        sla_due = created + timedelta(hours=category["sla_hours"])
        step = timedelta(hours=rng.uniform(1, 12))
        verified = created + step if status not in ("submitted", "rejected", "duplicate") else None
        dispatched = created + 2 * step if status in ("dispatched", "in_progress", "resolved", "closed") else None
        resolved = created + 4 * step if status in ("resolved", "closed") else None
        closed = resolved + timedelta(days=rng.uniform(0.5, 7)) if status == "closed" else None
        finished = closed or resolved
        breached = sla_due if (finished or now) > sla_due and status not in ("rejected", "duplicate") else None
        report_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        reporter = rng.choice(reporter_ids)
        kel = found.code if found else None
        kec, kota = (kel.rsplit(".", 1)[0], kel.rsplit(".", 2)[0]) if kel else (None, None)
        reports.append(
            (
                report_id,
                reporter,
                "app",
                code,
                f"{DESCRIPTIONS[code]} ({rng.randrange(1, 99)})",
                f"{rng.choice(_STREETS)} No. {rng.randrange(1, 200)}",
                lat,
                lon,
                cell_of(lat, lon),
                rng.random() < ANONYMOUS_SHARE,
                status,
                kel,
                kec,
                kota,
                None if found is None or found.exact else round(found.distance_m, 1),
                category["agency_code"],
                1 + (status != "submitted") + (dispatched is not None) + (resolved is not None) + (closed is not None),
                sla_due,
                breached,
                verified,
                dispatched,
                resolved,
                closed,
                "Sudah ditangani petugas." if resolved else None,
                "Lokasi bukan wilayah kewenangan Pemprov DKI." if status == "rejected" else None,
                rng.choices((0, 1, 2, 5), (80, 12, 6, 2))[0],
                0,
                created,
                finished or verified or created,
            )
        )
        if rng.random() < PHOTO_SHARE:
            photo_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            key = f"reports/{report_id}/{photo_id}"
            photos.append(
                (
                    photo_id,
                    report_id,
                    "report",
                    0,
                    0,
                    key + ".jpg",
                    key + "-thumb.jpg",
                    "image/jpeg",
                    1280,
                    960,
                    rng.randrange(80_000, 400_000),
                    f"{rng.getrandbits(256):064x}",
                    reporter,
                    created,
                )
            )
    return reports, photos


def psycopg_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def grow(url: str, target: int, places: Places, app_data: dict, now: datetime, batch: int = 50_000) -> dict:
    """Insert reports (with COPY) until the table holds `target` seeded ones, then VACUUM ANALYZE."""
    import time

    import psycopg

    started = time.perf_counter()
    with psycopg.connect(psycopg_url(url), autocommit=False) as conn:
        have = conn.execute(
            "SELECT count(*) FROM reports WHERE source = 'app' AND idempotency_key IS NULL AND reporter_id IS NOT NULL"
        ).fetchone()[0]
        inserted = 0
        while have + inserted < target:
            count = min(batch, target - have - inserted)
            reports, photos = generate(
                places, app_data["categories"], app_data["user_ids"], have + inserted, count, now
            )
            with conn.cursor() as cur:
                with cur.copy(f"COPY reports ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as copy:
                    for row in reports:
                        copy.write_row(row)
                with cur.copy(f"COPY report_photos ({', '.join(PHOTO_COLUMNS)}) FROM STDIN") as copy:
                    for row in photos:
                        copy.write_row(row)
            conn.commit()
            inserted += count
    copied = time.perf_counter()
    # What autovacuum would have done on a table that grew like this: fresh statistics and visibility map.
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) reports")
        conn.execute("VACUUM (ANALYZE) report_photos")
        conn.execute("VACUUM (ANALYZE) report_map_tiles")
        total = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
        size = conn.execute("SELECT pg_total_relation_size('reports')").fetchone()[0]
    return {
        "inserted": inserted,
        "reports_total": total,
        "copy_seconds": round(copied - started, 1),
        "vacuum_analyze_seconds": round(time.perf_counter() - copied, 1),
        "reports_table_with_indexes_mb": round(size / 2**20, 1),
    }


def sample_open_reports(url: str, count: int) -> list[dict]:
    """Open reports (random sample) to re-file at: a duplicate check there always finds them."""
    import psycopg

    with psycopg.connect(psycopg_url(url)) as conn:
        rows = conn.execute(
            "SELECT category_code, latitude, longitude FROM reports "
            "WHERE status IN ('submitted', 'verified', 'dispatched', 'in_progress') ORDER BY random() LIMIT %s",
            (count,),
        ).fetchall()
    return [{"category_code": c, "latitude": lat, "longitude": lon} for c, lat, lon in rows]


def utc_now() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "setup":
        print(json.dumps(setup_app_data(int(sys.argv[2]), int(sys.argv[3]))))
    elif command == "explain":
        print(json.dumps(explain(json.loads(sys.argv[2]))))
    else:
        raise SystemExit(f"unknown command {command}")
