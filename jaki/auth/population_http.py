"""Population registry (Dukcapil) over its REST API: a person by NIK and the members of their Kartu Keluarga."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from marshmallow import fields, validate

from jaki.auth.crypto import cipher
from jaki.auth.models import Person
from jaki.clients.agencies import agency_client
from jaki.clients.agency_client import AgencyClient, AgencyNotFound, AgencySchema, AgencyUnavailable
from jaki.errors import Unavailable

log = logging.getLogger(__name__)

NIK_FORMAT = validate.Regexp(r"^\d{16}$")
RELATIONS = (
    "kepala_keluarga",
    "suami",
    "istri",
    "anak",
    "menantu",
    "cucu",
    "orang_tua",
    "mertua",
    "famili_lain",
    "pembantu",
    "lainnya",
)


class ResidentSchema(AgencySchema):
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=150))
    birth_date = fields.Date(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(("M", "F")))
    kk_number = fields.String(required=True, validate=NIK_FORMAT)
    family_relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))
    kelurahan_code = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
    )
    address = fields.String(load_default="", validate=validate.Length(max=300))


class MemberSchema(AgencySchema):
    nik = fields.String(required=True, validate=NIK_FORMAT)
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=150))
    birth_date = fields.Date(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(("M", "F")))
    family_relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))


class HouseholdSchema(AgencySchema):
    kk_number = fields.String(required=True, validate=NIK_FORMAT)
    members = fields.List(fields.Nested(MemberSchema), required=True, validate=validate.Length(max=30))


@dataclass(frozen=True)
class HouseholdMember:
    nik: str
    full_name: str
    birth_date: date
    sex: str
    family_relation: str


class HttpPopulationRegistry:
    """Dukcapil's API: POST /v1/residents/query and POST /v1/residents/household/query, each with {"nik": ...}
    in the body: a NIK never travels in a URL (UU PDP), where access logs and proxies would keep it.

    An unreachable registry is a 503 with a stable code, never a 500 and never "no such NIK".
    """

    def __init__(self, client: AgencyClient):
        self.client = client

    @classmethod
    def from_config(cls) -> HttpPopulationRegistry:
        client = agency_client("DUKCAPIL")
        if client is None:
            raise RuntimeError("DUKCAPIL_BACKEND=http needs DUKCAPIL_URL (or AGENCY_DUKCAPIL_URL)")
        return cls(client)

    def lookup(self, nik: str) -> Person | None:
        try:
            row = self.client.query_json("/v1/residents/query", {"nik": nik}, schema=ResidentSchema)
        except AgencyNotFound:
            return None
        except AgencyUnavailable as exc:
            raise Unavailable("population_registry_unavailable", reason=exc.reason) from None
        return Person(
            full_name=row["full_name"],
            birth_date=row["birth_date"],
            sex=row["sex"],
            kk_index=cipher().blind_index(row["kk_number"], "kk"),
            family_relation=row["family_relation"],
            kelurahan_code=row["kelurahan_code"],
            address=row["address"],
        )

    def household(self, nik: str) -> tuple[str, list[HouseholdMember]] | None:
        """(kk_index, members) of the Kartu Keluarga the NIK belongs to; None when Dukcapil has no such NIK."""
        try:
            answer = self.client.query_json("/v1/residents/household/query", {"nik": nik}, schema=HouseholdSchema)
        except AgencyNotFound:
            return None
        except AgencyUnavailable as exc:
            raise Unavailable("population_registry_unavailable", reason=exc.reason) from None
        members = [HouseholdMember(**m) for m in answer["members"]]
        return cipher().blind_index(answer["kk_number"], "kk"), members
