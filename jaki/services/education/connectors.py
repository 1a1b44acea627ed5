"""Education connectors: jaki's tables, or Dinas Pendidikan's API (POST /v1/residents/education/query {"nik"})."""

from __future__ import annotations

from marshmallow import fields, validate

from jaki.clients.agency_client import AgencySchema
from jaki.extensions import db
from jaki.services.connectors import DomainSpec, HttpConnector, LocalConnector, Subject, register_domain
from jaki.services.education.models import LEVELS, STATUSES, SchoolEnrolment
from jaki.services.social_aid.connectors import (
    EDUCATION_PROGRAMMES,
    ProgrammeSchema,
    local_programmes,
    present_programmes,
)


def _enrolment(school_name, npsn, level, grade, academic_year, status) -> dict:
    return {
        "school_name": school_name,
        "npsn": npsn,
        "level": level,
        "grade": grade,
        "academic_year": academic_year,
        "status": status,
    }


class LocalEducation(LocalConnector):
    domain = "education"
    agency_code = "DISDIK"

    def fetch(self, subjects: list[Subject]) -> dict[str, dict]:
        by_index = {s.nik_index: s.member_id for s in subjects}
        scholarships = local_programmes(subjects, EDUCATION_PROGRAMMES)
        out = {s.member_id: {"enrolments": [], "scholarships": scholarships[s.member_id]} for s in subjects}
        rows = db.session.scalars(
            db.select(SchoolEnrolment)
            .where(SchoolEnrolment.nik_index.in_(list(by_index)))
            .order_by(SchoolEnrolment.academic_year.desc(), SchoolEnrolment.id)
        )
        for e in rows:
            out[by_index[e.nik_index]]["enrolments"].append(
                _enrolment(e.school_name, e.npsn, e.level, e.grade, e.academic_year, e.status)
            )
        return out


class EnrolmentSchema(AgencySchema):
    school_name = fields.String(required=True, validate=validate.Length(min=1, max=150))
    npsn = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Z]{6,8}$"))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    grade = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    academic_year = fields.String(required=True, validate=validate.Regexp(r"^\d{4}/\d{4}$"))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))


class EducationAnswerSchema(AgencySchema):
    # Required: a missing list would read as "not enrolled" or "no KJP Plus" (404 is how "no records" is said).
    enrolments = fields.List(fields.Nested(EnrolmentSchema), required=True, validate=validate.Length(max=50))
    scholarships = fields.List(fields.Nested(ProgrammeSchema), required=True, validate=validate.Length(max=10))


class HttpEducation(HttpConnector):
    domain = "education"
    agency_code = "DISDIK"
    path = "/v1/residents/education/query"
    schema = EducationAnswerSchema

    def empty(self) -> dict:
        return {"enrolments": [], "scholarships": []}

    def present(self, loaded: dict) -> dict:
        enrolments = sorted(loaded["enrolments"], key=lambda e: e["academic_year"], reverse=True)
        return {
            "enrolments": [_enrolment(**e) for e in enrolments],
            "scholarships": present_programmes(loaded["scholarships"], EDUCATION_PROGRAMMES),
        }


register_domain(
    DomainSpec("education", "DISDIK", LocalEducation, HttpEducation, dependents=True, officer_agencies=("DISDIK",))
)
