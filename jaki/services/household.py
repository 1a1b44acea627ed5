"""The citizen's household from the Kartu Keluarga: whose records a parent may see (their minor children)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from jaki.auth import nik as nik_mod
from jaki.auth.crypto import cipher, nik_index
from jaki.auth.models import Resident
from jaki.auth.population_http import HttpPopulationRegistry
from jaki.db import utcnow
from jaki.errors import Unavailable
from jaki.extensions import db
from jaki.services.connectors import Subject
from jaki.settings import setting
from jaki.timezone import jakarta_today

HEAD = "kepala_keluarga"
# Both parents in the Kartu Keluarga (the head and their spouse, by the registry's relationship field) are the
# guardians of the household's minors; nobody else in it (an adult child, a grandparent, a lodger) is.
GUARDIAN_RELATIONS = (HEAD, "suami", "istri")
# Children and grandchildren living in the household; a child is under 18 (UU 35/2014 on child protection).
# An adult child keeps their records to themselves: they have their own account.
DEPENDENT_RELATIONS = ("anak", "cucu")
ADULT_AGE = 18


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def member_id(nik: str) -> str:
    """A stable, opaque id for a household member in API answers (the NIK itself never is)."""
    return cipher().blind_index(nik, "member")[:24]


@dataclass(frozen=True)
class Member:
    member_id: str
    nik: str = field(repr=False)
    full_name: str
    birth_date: date
    sex: str
    relation: str
    is_self: bool

    @property
    def subject(self) -> Subject:
        return Subject(self.member_id, self.nik, nik_index(self.nik))

    def header(self) -> dict:
        return {
            "member_id": self.member_id,
            "full_name": self.full_name,
            "relation": self.relation,
            "is_self": self.is_self,
        }

    def describe(self, today: date) -> dict:
        return {
            **self.header(),
            "nik_masked": nik_mod.mask(self.nik),
            "age": age_on(self.birth_date, today),
            "sex": self.sex,
        }


@dataclass
class Household:
    me: Member
    dependents: list[Member]
    is_head: bool
    status: str = "ok"  # ok | unavailable (registry down: only the citizen's own records are shown)

    @property
    def visible(self) -> list[Member]:
        return [self.me, *self.dependents]

    def find_nik(self, nik: str) -> Member | None:
        return next((m for m in self.visible if m.nik == nik), None)

    def find(self, member_id: str) -> Member | None:
        return next((m for m in self.visible if m.member_id == member_id), None)


def _is_dependent(relation: str, born: date, today: date) -> bool:
    return relation in DEPENDENT_RELATIONS and age_on(born, today) < ADULT_AGE


def household_for(user) -> Household:
    """The user and, when they are a parent in their Kartu Keluarga, its minor children. Nobody else's records."""
    today = jakarta_today(utcnow())  # a child turns 18 at midnight in Jakarta, not at 07:00
    nik = user.nik
    if setting("DUKCAPIL_BACKEND") == "http":
        return _from_http(user, nik, today)
    own_index = nik_index(nik)
    # One query: the account's household (set from Dukcapil at registration) with the person's own row in it.
    household = Resident.kk_index == user.kk_index if user.kk_index else Resident.nik_index == own_index
    rows = db.session.scalars(select(Resident).where(household).order_by(Resident.birth_date)).all()
    own = next((row for row in rows if row.nik_index == own_index), None)
    relation = own.family_relation if own is not None else "lainnya"
    me = Member(member_id(nik), nik, user.full_name, user.birth_date, user.sex, relation, True)
    # Both must agree: the registry row is in the account's household, and names a parent (guardian).
    if own is None or user.kk_index is None or own.kk_index != user.kk_index or relation not in GUARDIAN_RELATIONS:
        return Household(me, [], is_head=False)
    dependents = []
    for row in rows:
        if row.id == own.id or not _is_dependent(row.family_relation, row.birth_date, today):
            continue
        child_nik = row.nik
        dependents.append(
            Member(member_id(child_nik), child_nik, row.full_name, row.birth_date, row.sex, row.family_relation, False)
        )
    return Household(me, dependents, is_head=relation == HEAD)


def _from_http(user, nik: str, today: date) -> Household:
    me = Member(member_id(nik), nik, user.full_name, user.birth_date, user.sex, "lainnya", True)
    try:
        answer = HttpPopulationRegistry.from_config().household(nik)
    except Unavailable:
        return Household(me, [], is_head=False, status="unavailable")
    if answer is None:
        return Household(me, [], is_head=False)
    kk_index, members = answer
    own = next((m for m in members if m.nik == nik), None)
    if own is None or kk_index != user.kk_index or own.family_relation not in GUARDIAN_RELATIONS:
        relation = own.family_relation if own is not None else "lainnya"
        return Household(
            Member(me.member_id, nik, me.full_name, me.birth_date, me.sex, relation, True), [], is_head=False
        )
    me = Member(me.member_id, nik, me.full_name, me.birth_date, me.sex, own.family_relation, True)
    dependents = [
        Member(member_id(m.nik), m.nik, m.full_name, m.birth_date, m.sex, m.family_relation, False)
        for m in sorted(members, key=lambda m: m.birth_date)
        if m.nik != nik and _is_dependent(m.family_relation, m.birth_date, today)
    ]
    return Household(me, dependents, is_head=own.family_relation == HEAD)
