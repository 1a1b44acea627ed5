"""Demo reports around Jakarta in every status (idempotent); the categories are reference data (reference.py)."""

from __future__ import annotations

import io
import logging
import random

from sqlalchemy import select

from jaki.auth import nik as nik_mod
from jaki.auth.crypto import nik_index
from jaki.auth.models import User
from jaki.db import utcnow
from jaki.demo import HOUSEHOLDS, STAFF
from jaki.extensions import db
from jaki.geo.models import Area
from jaki.reports import evidence, operations, transitions
from jaki.reports import workflow as wf
from jaki.reports.models import Report
from jaki.reports.reference import CATEGORIES, load_categories

log = logging.getLogger(__name__)


def seed_categories() -> None:
    load_categories()
    db.session.commit()


# (place, lat, lon): spread over the five kota; Kebayoran Lama (31.74.05) gets the most, for the demo officer.
PLACES = [
    ("Pondok Pinang", -6.2710, 106.7770),
    ("Cipulir", -6.2380, 106.7700),
    ("Kebayoran Lama Utara", -6.2390, 106.7830),
    ("Grogol Selatan", -6.2230, 106.7850),
    ("Pondok Indah", -6.2650, 106.7840),
    ("Gandaria Utara", -6.2480, 106.7960),
    ("Monas", -6.1754, 106.8272),
    ("Tanah Abang", -6.1865, 106.8130),
    ("Kemayoran", -6.1600, 106.8450),
    ("Kota Tua", -6.1352, 106.8133),
    ("Kelapa Gading", -6.1580, 106.9050),
    ("Grogol", -6.1670, 106.7900),
    ("Cengkareng", -6.1500, 106.7350),
    ("Jatinegara", -6.2150, 106.8700),
    ("Cawang", -6.2430, 106.8660),
    ("Pasar Minggu", -6.2830, 106.8440),
]
DESCRIPTIONS = {
    "jalan_rusak": "Jalan berlubang cukup dalam, membahayakan pengendara motor terutama malam hari.",
    "banjir": "Genangan air setinggi lutut setelah hujan deras, kendaraan kecil tidak bisa lewat.",
    "sampah": "Tumpukan sampah di pinggir jalan belum diangkut sejak tiga hari.",
    "pohon_tumbang": "Pohon tumbang menutup sebagian jalan setelah angin kencang.",
    "lampu_jalan": "Lampu penerangan jalan mati di sepanjang ruas ini, jalan sangat gelap.",
    "parkir_liar": "Mobil parkir di bahu jalan sehingga menyebabkan kemacetan pada jam sibuk.",
    "saluran_tersumbat": "Saluran air tersumbat sampah, air meluap ke jalan saat hujan.",
    "fasilitas_umum": "Bangku dan pagar taman rusak, besi tajam mencuat.",
    "trotoar_rusak": "Trotoar amblas dan ubinnya lepas, pejalan kaki terpaksa turun ke jalan.",
    "pkl_liar": "Pedagang menutup trotoar sehingga pejalan kaki harus berjalan di jalan raya.",
}
# How far along the workflow each demo report goes (cycled).
STAGES = [
    wf.SUBMITTED,
    wf.VERIFIED,
    wf.DISPATCHED,
    wf.IN_PROGRESS,
    wf.RESOLVED,
    wf.CLOSED,
    wf.SUBMITTED,
    wf.REJECTED,
    wf.IN_PROGRESS,
    wf.VERIFIED,
    wf.AWAITING_VALIDATION,
    wf.DISPATCHED,
]
DEMO_COUNT = 36


def _user_by_nik(nik: str) -> User | None:
    return db.session.scalar(select(User).where(User.nik_index == nik_index(nik)))


def _demo_people() -> tuple[list[User], User | None]:
    citizens = []
    for index in (0, 1):
        kec, _kel, _kk, _address, members = HOUSEHOLDS[index]
        _name, born, sex, _relation, serial = members[0]
        user = _user_by_nik(nik_mod.build(kec, born, sex, serial))
        if user is not None:
            citizens.append(user)
    staff = {}
    for _name, kec, born, sex, serial, role, *_rest in STAFF:
        if role in ("admin", "validator"):
            staff[role] = _user_by_nik(nik_mod.build(kec, born, sex, serial))
    return citizens, staff.get("admin"), staff.get("validator")


def _evidence_png(seed: int) -> bytes:
    """A different picture per report (random blocks): evidence seen before is refused as reused."""
    from PIL import Image

    rng = random.Random(seed)  # noqa: S311 - demo pixels, not security
    image = Image.new("RGB", (64, 48))
    for x in range(0, 64, 8):
        for y in range(0, 48, 8):
            image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + 8, y + 8))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _advance(report: Report, target: str, citizen: User, admin: User, validator: User, n: int) -> None:
    """Walk the report along the workflow to `target` the way staff and the reporter would: the admin works it,
    with evidence taken on site under its capture token, and the validator (someone else) validates."""
    steps = {
        wf.VERIFIED: [(admin, wf.VERIFIED, {})],
        wf.REJECTED: [(admin, wf.REJECTED, {"reason": "Lokasi bukan wilayah kewenangan Pemprov DKI."})],
        wf.DISPATCHED: [(admin, wf.VERIFIED, {}), (admin, wf.DISPATCHED, {})],
        wf.IN_PROGRESS: [(admin, wf.VERIFIED, {}), (admin, wf.DISPATCHED, {}), (admin, wf.IN_PROGRESS, {})],
    }
    steps[wf.AWAITING_VALIDATION] = [
        *steps[wf.IN_PROGRESS],
        (admin, wf.AWAITING_VALIDATION, {"note": "Sudah ditangani petugas."}),
    ]
    steps[wf.RESOLVED] = [*steps[wf.AWAITING_VALIDATION], (validator, wf.RESOLVED, {})]
    steps[wf.CLOSED] = [*steps[wf.RESOLVED], (citizen, wf.CLOSED, {})]
    for actor, to_status, extra in steps.get(target, []):
        if to_status == wf.AWAITING_VALIDATION:
            evidence.add_evidence(
                admin,
                report.id,
                _evidence_png(n),
                token=report.capture_token.token,
                captured_at=utcnow(),
                latitude=report.latitude,
                longitude=report.longitude,
                accuracy_m=5.0,
            )
        report = transitions.transition(actor, report.id, to_status, expected_version=report.version, **extra)


def seed_demo_reports() -> int:
    """A few dozen reports by the demo citizens, in various statuses; reports already there are skipped."""
    citizens, admin, validator = _demo_people()
    if not citizens or admin is None or validator is None:
        return 0
    if db.session.scalar(select(Area.code).where(Area.level == "kelurahan").limit(1)) is None:
        return 0  # no areas imported: every point is outside Jakarta, and refused
    rng = random.Random(2026)  # noqa: S311 - demo coordinates, not security
    codes = [code for code, *_ in CATEGORIES]
    made = 0
    for n in range(DEMO_COUNT):
        citizen = citizens[n % len(citizens)]
        key = f"demo-report-{n:03d}"
        place, lat, lon = PLACES[n % len(PLACES)] if n < len(PLACES) else PLACES[rng.randrange(6)]
        lat += rng.uniform(-0.004, 0.004)
        lon += rng.uniform(-0.004, 0.004)
        code = codes[n % len(codes)]
        if db.session.scalar(select(Report.id).where(Report.reporter_id == citizen.id, Report.idempotency_key == key)):
            continue
        created = operations.create_report(
            citizen,
            category_code=code,
            description=f"{DESCRIPTIONS[code]} ({place})",
            latitude=lat,
            longitude=lon,
            address=f"Sekitar {place}",
            anonymous=n % 5 == 0,
            idempotency_key=key,
            force=True,
            source="demo",
            enforce_quota=False,
        )
        _advance(created.report, STAGES[n % len(STAGES)], citizen, admin, validator, n)
        made += 1
    return made


def seed() -> None:
    seed_categories()
    made = seed_demo_reports()
    if made:
        log.info("demo reports seeded", extra={"count": made})
