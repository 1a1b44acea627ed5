"""Permit and letter connectors for the overview: jaki's workflow tables, or DPMPTSP's API for permits."""

from __future__ import annotations

from marshmallow import fields, validate

from jaki.auth.models import User
from jaki.clients.agency_client import AgencySchema
from jaki.extensions import db
from jaki.services.connectors import DomainSpec, HttpConnector, LocalConnector, Subject, iso, register_domain
from jaki.services.permits.models import Application
from jaki.services.permits.workflow import STATUSES

OPEN_LIMIT = 50


def summary(a: Application) -> dict:
    return {
        "application_id": a.id,
        "reference": a.reference,
        "type_code": a.type_code,
        "type_name": a.type.name,
        "status": a.status,
        "submitted_at": iso(a.submitted_at),
        "sla_due_at": iso(a.sla_due_at),
        "sla_breached": a.sla_breached_at is not None,
        "decided_at": iso(a.decided_at),
    }


class _LocalApplications(LocalConnector):
    kind_name: str

    def fetch(self, subjects: list[Subject]) -> dict[str, dict]:
        by_index = {s.nik_index: s.member_id for s in subjects}
        out: dict[str, dict] = {s.member_id: {"applications": []} for s in subjects}
        rows = db.session.execute(
            db.select(Application, User.nik_index)
            .join(User, User.id == Application.applicant_id)
            .where(User.nik_index.in_(list(by_index)), Application.kind == self.kind_name)
            .order_by(Application.created_at.desc())
            .limit(OPEN_LIMIT)
        )
        for application, nik_index in rows:
            out[by_index[nik_index]]["applications"].append(summary(application))
        return out


class LocalPermits(_LocalApplications):
    domain = "permits"
    agency_code = "DPMPTSP"
    kind_name = "permit"


class LocalLetters(_LocalApplications):
    domain = "letters"
    agency_code = "KELURAHAN"
    kind_name = "letter"


class PermitSchema(AgencySchema):
    application_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,64}$"))
    reference = fields.String(required=True, validate=validate.Length(min=1, max=40))
    type_code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9-]{1,20}$"))
    type_name = fields.String(required=True, validate=validate.Length(min=1, max=150))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES["permit"]))
    submitted_at = fields.AwareDateTime(load_default=None, allow_none=True)
    sla_due_at = fields.AwareDateTime(load_default=None, allow_none=True)
    sla_breached = fields.Boolean(load_default=False)
    decided_at = fields.AwareDateTime(load_default=None, allow_none=True)


class PermitsAnswerSchema(AgencySchema):
    applications = fields.List(fields.Nested(PermitSchema), required=True, validate=validate.Length(max=500))


class HttpPermits(HttpConnector):
    """JakEVO's view of the citizen's applications (POST /v1/applicants/applications/query {"nik"}).

    Submission and officer work still go through jaki's own workflow tables; forwarding them to JakEVO is
    not built.
    """

    domain = "permits"
    agency_code = "DPMPTSP"
    path = "/v1/applicants/applications/query"
    schema = PermitsAnswerSchema

    def empty(self) -> dict:
        return {"applications": []}

    def present(self, loaded: dict) -> dict:
        rows = sorted(loaded["applications"], key=lambda a: iso(a["submitted_at"]) or "", reverse=True)
        return {
            "applications": [
                {
                    **a,
                    "submitted_at": iso(a["submitted_at"]),
                    "sla_due_at": iso(a["sla_due_at"]),
                    "decided_at": iso(a["decided_at"]),
                }
                for a in rows[:OPEN_LIMIT]
            ]
        }


# Applications are the applicant's own.
register_domain(
    DomainSpec("permits", "DPMPTSP", LocalPermits, HttpPermits, dependents=False, officer_agencies=("DPMPTSP",))
)
register_domain(DomainSpec("letters", "KELURAHAN", LocalLetters, None, dependents=False))
