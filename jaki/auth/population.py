"""Population registry (Dukcapil) connector: who a NIK belongs to, their household and current address."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select

from jaki.auth.crypto import nik_index
from jaki.auth.models import Person, Resident
from jaki.auth.population_http import HttpPopulationRegistry
from jaki.extensions import db
from jaki.settings import setting


class PopulationRegistry(Protocol):
    def lookup(self, nik: str) -> Person | None: ...


class LocalPopulationRegistry:
    """The embedded default: demo residents held in jaki's own database."""

    def lookup(self, nik: str) -> Person | None:
        row = db.session.scalar(select(Resident).where(Resident.nik_index == nik_index(nik)))
        if row is None:
            return None
        return Person(
            full_name=row.full_name,
            birth_date=row.birth_date,
            sex=row.sex,
            kk_index=row.kk_index,
            family_relation=row.family_relation,
            kelurahan_code=row.kelurahan_code,
            address=row.address,
        )


def registry() -> PopulationRegistry:
    backend = setting("DUKCAPIL_BACKEND")
    if backend == "local":
        return LocalPopulationRegistry()
    if backend == "http":
        return HttpPopulationRegistry.from_config()
    raise RuntimeError(f"unknown DUKCAPIL_BACKEND {backend!r}")


def same_name(a: str, b: str) -> bool:
    """Names are compared as Dukcapil prints them: case and spacing do not matter."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
