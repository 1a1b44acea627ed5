"""Health connectors: jaki's tables, or Dinas Kesehatan's API (POST /v1/residents/health/query {"nik"})."""

from __future__ import annotations

from marshmallow import fields, validate

from jaki.clients.agency_client import AgencySchema
from jaki.db import utcnow
from jaki.extensions import db
from jaki.services.connectors import (
    DomainSpec,
    HttpConnector,
    LocalConnector,
    Subject,
    iso,
    mask_number,
    register_domain,
)
from jaki.services.health.models import JKN_SEGMENTS, JKN_STATUSES, HealthVisit, Immunisation, JknMembership

TEXT = validate.Length(min=1, max=150)


def _jkn(card_number, segment, care_class, status, faskes_code, faskes_name, valid_until) -> dict:
    return {
        "card_number_masked": mask_number(card_number),
        "segment": segment,
        "care_class": care_class,
        "status": status,
        "faskes": {"code": faskes_code, "name": faskes_name},
        "valid_until": iso(valid_until),
    }


class LocalHealth(LocalConnector):
    domain = "health"
    agency_code = "DINKES"

    def fetch(self, subjects: list[Subject]) -> dict[str, dict]:
        by_index = {s.nik_index: s.member_id for s in subjects}
        out = {s.member_id: {"jkn": None, "immunisations": [], "upcoming_visits": []} for s in subjects}
        indexes = list(by_index)
        for m in db.session.scalars(db.select(JknMembership).where(JknMembership.nik_index.in_(indexes))):
            out[by_index[m.nik_index]]["jkn"] = _jkn(
                m.card_number, m.segment, m.care_class, m.status, m.faskes_code, m.faskes_name, m.valid_until
            )
        for i in db.session.scalars(
            db.select(Immunisation)
            .where(Immunisation.nik_index.in_(indexes))
            .order_by(Immunisation.given_on, Immunisation.id)
        ):
            out[by_index[i.nik_index]]["immunisations"].append(
                {"vaccine": i.vaccine, "dose": i.dose, "given_on": iso(i.given_on), "place": i.place}
            )
        for v in db.session.scalars(
            db.select(HealthVisit)
            .where(HealthVisit.nik_index.in_(indexes), HealthVisit.scheduled_for >= utcnow())
            .order_by(HealthVisit.scheduled_for)
        ):
            out[by_index[v.nik_index]]["upcoming_visits"].append(
                {"scheduled_for": iso(v.scheduled_for), "kind": v.kind, "facility": v.facility, "purpose": v.purpose}
            )
        return out


class JknSchema(AgencySchema):
    card_number = fields.String(required=True, validate=validate.Regexp(r"^\d{13}$"))
    segment = fields.String(required=True, validate=validate.OneOf(JKN_SEGMENTS))
    care_class = fields.Integer(required=True, validate=validate.Range(1, 3))
    status = fields.String(required=True, validate=validate.OneOf(JKN_STATUSES))
    faskes_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    faskes_name = fields.String(required=True, validate=TEXT)
    valid_until = fields.Date(load_default=None, allow_none=True)


class ImmunisationSchema(AgencySchema):
    vaccine = fields.String(required=True, validate=validate.Length(min=1, max=60))
    dose = fields.Integer(required=True, validate=validate.Range(1, 10))
    given_on = fields.Date(required=True)
    place = fields.String(load_default="", validate=validate.Length(max=150))


class VisitSchema(AgencySchema):
    scheduled_for = fields.AwareDateTime(required=True)
    kind = fields.String(required=True, validate=validate.Length(min=1, max=30))
    facility = fields.String(required=True, validate=TEXT)
    purpose = fields.String(load_default="", validate=validate.Length(max=150))


class HealthAnswerSchema(AgencySchema):
    # Essential, so required: an answer without them is not Dinas Kesehatan's answer, and showing it would tell
    # a family it has no JKN (null is the agency saying "no membership") or that a child had no vaccinations.
    jkn = fields.Nested(JknSchema, required=True, allow_none=True)
    immunisations = fields.List(fields.Nested(ImmunisationSchema), required=True, validate=validate.Length(max=200))
    visits = fields.List(fields.Nested(VisitSchema), required=True, validate=validate.Length(max=100))


class HttpHealth(HttpConnector):
    domain = "health"
    agency_code = "DINKES"
    path = "/v1/residents/health/query"
    schema = HealthAnswerSchema

    def empty(self) -> dict:
        return {"jkn": None, "immunisations": [], "upcoming_visits": []}

    def present(self, loaded: dict) -> dict:
        jkn = loaded["jkn"]
        now = utcnow()
        return {
            "jkn": _jkn(**jkn) if jkn else None,
            "immunisations": [
                {"vaccine": i["vaccine"], "dose": i["dose"], "given_on": iso(i["given_on"]), "place": i["place"]}
                for i in sorted(loaded["immunisations"], key=lambda i: i["given_on"])
            ],
            "upcoming_visits": [
                {
                    "scheduled_for": iso(v["scheduled_for"]),
                    "kind": v["kind"],
                    "facility": v["facility"],
                    "purpose": v["purpose"],
                }
                for v in sorted(loaded["visits"], key=lambda v: v["scheduled_for"])
                if v["scheduled_for"] >= now
            ],
        }


register_domain(DomainSpec("health", "DINKES", LocalHealth, HttpHealth, dependents=True, officer_agencies=("DINKES",)))
