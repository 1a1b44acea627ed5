"""Factory helpers: residents, citizens and staff built through the same code paths the app uses."""

from __future__ import annotations

import itertools
from datetime import date

from flask_jwt_extended import create_access_token

from jaki.auth import nik as nik_mod
from jaki.auth.crypto import cipher, hash_password
from jaki.auth.models import Resident, StaffArea, User
from jaki.auth.tokens import issue_pair
from jaki.db import utcnow
from jaki.extensions import db

PASSWORD = "kata-sandi-rahasia-1"
_serials = itertools.count(1000)


def make_nik(kecamatan: str = "317405", born: date = date(1990, 7, 1), sex: str = "F") -> str:
    return nik_mod.build(kecamatan, born, sex, next(_serials))


def nik_spellings(nik: str) -> dict[str, str]:
    """The ways people type a NIK (on a phone keypad, copied from a KTP photo, from a spreadsheet)."""
    groups = [nik[:4], nik[4:8], nik[8:12], nik[12:]]
    return {
        "spaces": " ".join(groups),
        "dots": ".".join(groups),
        "dashes": "-".join(groups),
        "mixed": f" {nik[:6]}.{nik[6:12]}-{nik[12:]} ",
        "non-breaking": "\u00a0".join(groups),
    }


def make_resident(
    *,
    full_name="Siti Rahayu",
    born=date(1990, 7, 1),
    sex="F",
    kecamatan="317405",
    kk="3174050102109999",
    relation="kepala_keluarga",
    kelurahan="31.74.05.1002",
    nik=None,
):
    nik = nik or make_nik(kecamatan, born, sex)
    resident = Resident(
        full_name=full_name,
        birth_date=born,
        sex=sex,
        family_relation=relation,
        address="Jl. Contoh No. 1",
        kelurahan_code=kelurahan,
    )
    resident.nik = nik
    resident.kk_number = kk
    db.session.add(resident)
    db.session.flush()
    return nik, resident


def make_user(
    *,
    role="citizen",
    full_name="Warga Jakarta",
    born=date(1991, 2, 3),
    sex="M",
    kecamatan="317405",
    password=PASSWORD,
    agency_code=None,
    areas=(),
    phone=None,
    status="active",
    kk=None,
    home_kelurahan_code=None,
    nik=None,
):
    nik = nik or make_nik(kecamatan, born, sex)
    user = User(
        role=role,
        status=status,
        full_name=full_name,
        birth_date=born,
        sex=sex,
        password_hash=hash_password(password),
        phone_verified_at=utcnow() if status == "active" else None,
        agency_code=agency_code,
        home_kelurahan_code=home_kelurahan_code,
        kk_index=cipher().blind_index(kk, "kk") if kk else None,
    )
    user.nik = nik
    user.phone = phone or f"+62812{int(nik[-6:]):08d}"
    user.areas = [StaffArea(area_code=a) for a in areas]
    db.session.add(user)
    db.session.flush()
    return user


def ensure_agency(code="DBM", name="Dinas Bina Marga"):
    from jaki.agencies.models import Agency

    agency = db.session.get(Agency, code)
    if agency is None:
        agency = Agency(code=code, name=name, short_name=code)
        db.session.add(agency)
        db.session.flush()
    return agency


def auth_header(user, *, fresh=True) -> dict:
    pair = issue_pair(user, fresh=fresh)
    db.session.flush()
    return {"Authorization": f"Bearer {pair['access_token']}"}


def access_header(user, **claims) -> dict:
    token = create_access_token(identity=user.id, additional_claims={"role": user.role, **claims})
    return {"Authorization": f"Bearer {token}"}
