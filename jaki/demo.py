"""Demo data for the embedded default: residents with households, staff logins, agencies. Idempotent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from jaki.agencies.models import Agency
from jaki.auth import nik as nik_mod
from jaki.auth.crypto import cipher, hash_password, nik_index
from jaki.auth.models import Resident, StaffArea, User
from jaki.db import utcnow
from jaki.extensions import db
from jaki.geo.models import Area
from jaki.geo.operations import import_areas, import_neighbours
from jaki.settings import setting

DEMO_PASSWORD = "jakarta-demo-2026"  # noqa: S105 - printed by make run for the demo logins

# Two households in Kebayoran Lama (31.74.05) and one in Gambir (31.71.01).
# (kecamatan code, kelurahan, KK number, address, [(name, birth date, sex, relation, serial)])
HOUSEHOLDS = [
    (
        "317405",
        "31.74.05.1002",
        "3174050102100011",
        "Jl. Pondok Pinang Raya No. 12, RT 003/RW 004",
        [
            ("Siti Rahayu", date(1990, 7, 1), "F", "kepala_keluarga", 3),
            ("Budi Santoso", date(1988, 3, 12), "M", "suami", 4),
            ("Rizky Santoso", date(2014, 5, 20), "M", "anak", 5),
            ("Aisyah Putri Santoso", date(2018, 9, 9), "F", "anak", 6),
        ],
    ),
    (
        "317405",
        "31.74.05.1003",
        "3174050102100012",
        "Jl. Cipulir V No. 7, RT 001/RW 002",
        [
            ("Ahmad Fauzi", date(1975, 1, 15), "M", "kepala_keluarga", 7),
            ("Dewi Lestari", date(1978, 11, 30), "F", "istri", 8),
            ("Nur Hidayah", date(2008, 2, 2), "F", "anak", 9),
        ],
    ),
    (
        "317101",
        "31.71.01.1002",
        "3171010102100013",
        "Jl. Cideng Barat No. 21, RT 005/RW 001",
        [
            ("Hendra Wijaya", date(1982, 6, 25), "M", "kepala_keluarga", 10),
            ("Maria Ulfa", date(1950, 4, 4), "F", "orang_tua", 11),
        ],
    ),
]

# A starting set; the agency registry (public services) extends and describes all 52.
AGENCIES = [
    ("DBM", "Dinas Bina Marga", "Bina Marga"),
    ("DSDA", "Dinas Sumber Daya Air", "SDA"),
    ("DLH", "Dinas Lingkungan Hidup", "Lingkungan Hidup"),
    ("DPHK", "Dinas Pertamanan dan Hutan Kota", "Pertamanan"),
    ("DISHUB", "Dinas Perhubungan", "Perhubungan"),
    ("DINKES", "Dinas Kesehatan", "Kesehatan"),
    ("DISDIK", "Dinas Pendidikan", "Pendidikan"),
    ("DINSOS", "Dinas Sosial", "Sosial"),
    ("BAPENDA", "Badan Pendapatan Daerah", "Bapenda"),
    ("DPMPTSP", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "DPMPTSP"),
    ("DCKTRP", "Dinas Cipta Karya, Tata Ruang dan Pertanahan", "Citata"),
    ("DUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil", "Dukcapil"),
    ("SATPOLPP", "Satuan Polisi Pamong Praja", "Satpol PP"),
    ("DPE", "Dinas Perindustrian, Perdagangan, Koperasi, Usaha Kecil dan Menengah", "PPKUKM"),
    ("BPBD", "Badan Penanggulangan Bencana Daerah", "BPBD"),
]

STAFF = [
    # (name, kecamatan, birth date, sex, serial, role, agency, areas, phone)
    ("Agus Prasetyo", "317405", date(1985, 8, 17), "M", 101, "officer", "DBM", ["31.74.05"], "081200000101"),
    ("Rina Marlina", "317101", date(1987, 12, 3), "F", 102, "agency_admin", "DBM", ["31.74"], "081200000102"),
    ("Admin JAKI", "317101", date(1980, 1, 1), "M", 103, "admin", None, [], "081200000103"),
    # Watches /command-center (read-only statistics).
    ("Dewi Kusuma", "317101", date(1983, 4, 21), "F", 104, "command_center", None, [], "081200000104"),
    # Biro Pemerintahan's validator (issue 15): no areas, so every kelurahan; validates resolutions.
    ("Sri Wahyuni", "317101", date(1982, 6, 9), "F", 105, "validator", None, [], "081200000105"),
]

SEEDERS: list = []  # domains append callables taking no arguments; each must be idempotent


def _upsert_agencies() -> None:
    for code, name, short in AGENCIES:
        if db.session.get(Agency, code) is None:
            db.session.add(Agency(code=code, name=name, short_name=short))


def _resident(kec: str, kel: str, kk: str, address: str, member) -> tuple[str, Resident | None]:
    name, born, sex, relation, serial = member
    nik = nik_mod.build(kec, born, sex, serial)
    existing = db.session.scalar(select(Resident).where(Resident.nik_index == nik_index(nik)))
    if existing is not None:
        return nik, None
    resident = Resident(
        full_name=name, birth_date=born, sex=sex, family_relation=relation, address=address, kelurahan_code=kel
    )
    resident.nik = nik
    resident.kk_number = kk
    return nik, resident


def _area_exists(code: str) -> bool:
    return db.session.get(Area, code) is not None


def seed_residents() -> list[str]:
    niks = []
    for kec, kel, kk, address, members in HOUSEHOLDS:
        for member in members:
            nik, resident = _resident(kec, kel, kk, address, member)
            niks.append(nik)
            if resident is not None:
                db.session.add(resident)
    db.session.flush()
    return niks


def _account_for(nik: str, resident_member, kel: str, kk: str) -> None:
    name, born, sex, _relation, _serial = resident_member
    if db.session.scalar(select(User.id).where(User.nik_index == nik_index(nik))):
        return
    user = User(
        role="citizen",
        status="active",
        full_name=name,
        birth_date=born,
        sex=sex,
        password_hash=hash_password(DEMO_PASSWORD),
        phone_verified_at=utcnow(),
        home_kelurahan_code=kel if _area_exists(kel) else None,
        kk_index=cipher().blind_index(kk, "kk"),
    )
    user.nik = nik
    user.phone = f"+62812{int(nik[-4:]):08d}"
    db.session.add(user)


def seed_staff(rows=STAFF) -> list[tuple[str | None, str, str]]:
    """Staff accounts for the demo (idempotent, by NIK); returns (agency, role, NIK) of each login."""
    logins = []
    for name, kec, born, sex, serial, role, agency, areas, phone in rows:
        nik = nik_mod.build(kec, born, sex, serial)
        logins.append((agency, role, nik))
        if db.session.scalar(select(User.id).where(User.nik_index == nik_index(nik))):
            continue
        user = User(
            role=role,
            status="active",
            full_name=name,
            birth_date=born,
            sex=sex,
            password_hash=hash_password(DEMO_PASSWORD),
            phone_verified_at=utcnow(),
            agency_code=agency,
        )
        user.nik = nik
        user.phone = phone
        user.areas = [StaffArea(area_code=a) for a in areas]
        db.session.add(user)
    db.session.flush()
    return logins


def seed_areas() -> str | None:
    """Import Jakarta's kelurahan and its neighbours' outlines from the shared data files when they are there."""
    data = Path(setting("SHARED_DATA_DIR"))
    path = data / "jakarta_kelurahan.geojson"
    if not path.exists():
        return None
    result = f"areas: {import_areas(path)}"
    try:
        from jaki.geo.outlines import store_outlines  # shapely: about 0.3 s to import, paid only here
    except ImportError:  # shapely is a runtime requirement; a venv without it still seeds, without map outlines
        pass
    else:
        result += f"; {store_outlines()}"
    neighbours = data / "jakarta_neighbours.geojson"
    if neighbours.exists():
        result += f"; {import_neighbours(neighbours)}"
    return result


class DemoRefused(RuntimeError):
    """Demo people (and their printed password) never go into a production database."""


def seed_demo() -> list[str]:
    if setting("JAKI_ENV") == "production":
        raise DemoRefused(
            "flask demo seed refuses to run with JAKI_ENV=production: it would create demo accounts whose password "
            "is public. Load reference data with `flask reference load` and create the first admin with "
            "`flask users create-staff --role admin` (README, Production)."
        )
    lines = []
    areas = seed_areas()
    if areas:
        lines.append(areas)
    else:
        lines.append(
            f"areas: not imported, {setting('SHARED_DATA_DIR')}/jakarta_kelurahan.geojson is missing "
            "(set JAKI_SHARED_DATA); without them every report is outside Jakarta, so no demo reports"
        )
    _upsert_agencies()
    seed_residents()
    # Two demo citizens have accounts; the others are in the registry only, so registration can be tried.
    kec, kel, kk, _address, members = HOUSEHOLDS[0]
    siti_nik = nik_mod.build(kec, members[0][1], members[0][2], members[0][4])
    _account_for(siti_nik, members[0], kel, kk)
    kec2, kel2, kk2, _a2, members2 = HOUSEHOLDS[1]
    ahmad_nik = nik_mod.build(kec2, members2[0][1], members2[0][2], members2[0][4])
    _account_for(ahmad_nik, members2[0], kel2, kk2)
    staff = seed_staff()
    db.session.commit()
    extra_lines = []
    for seeder in SEEDERS:
        extra_lines += seeder() or []  # a seeder may return lines to print (e.g. its staff logins)
        db.session.commit()
    budi_nik = nik_mod.build(kec, members[1][1], members[1][2], members[1][4])
    lines += [
        "Demo data ready. Password for every demo login: " + DEMO_PASSWORD,
        f"  citizen  Siti Rahayu (head of household)  NIK {siti_nik}",
        f"  citizen  Ahmad Fauzi (another household)  NIK {ahmad_nik}",
        f"  registry only (try registering): Budi Santoso, born 1988-03-12, NIK {budi_nik}",
    ]
    lines += [f"  {role:<14} NIK {nik}" + (f"  ({agency})" if agency else "") for agency, role, nik in staff]
    return lines + extra_lines
