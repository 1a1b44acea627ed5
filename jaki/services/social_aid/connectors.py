"""Social aid connectors: jaki's tables, or Dinas Sosial's API (POST /v1/residents/bansos/query {"nik"})."""

from __future__ import annotations

from marshmallow import fields, validate

from jaki.clients.agency_client import AgencySchema
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
from jaki.services.social_aid.models import (
    DISBURSEMENT_STATUSES,
    ENROLMENT_STATUSES,
    AidDisbursement,
    AidEnrolment,
    DtksEntry,
)

# code -> (name, agency, umbrella, description). Amounts are per month; PKD pays Rp300.000 monthly since
# April 2025 (DOMAIN.md). KJP Plus amounts depend on the school level and change yearly: they live on the
# enrolment row, not here.
PROGRAMMES: dict[str, tuple[str, str, str | None, str]] = {
    "KJP_PLUS": (
        "Kartu Jakarta Pintar Plus",
        "DISDIK",
        None,
        "Bantuan pendidikan bulanan bagi peserta didik usia 6-21 tahun dari keluarga terdaftar di DTKS.",
    ),
    "KJMU": (
        "Kartu Jakarta Mahasiswa Unggul",
        "DISDIK",
        None,
        "Bantuan biaya pendidikan bagi mahasiswa dari keluarga kurang mampu terdaftar di DTKS.",
    ),
    "PKD": (
        "Pemenuhan Kebutuhan Dasar",
        "DINSOS",
        None,
        "Payung bantuan KLJ, KPDJ dan KAJ: Rp300.000 per bulan, dibayarkan ke rekening Bank DKI.",
    ),
    "KLJ": ("Kartu Lansia Jakarta", "DINSOS", "PKD", "Bantuan bagi lansia 60 tahun ke atas terdaftar di DTKS."),
    "KPDJ": (
        "Kartu Penyandang Disabilitas Jakarta",
        "DINSOS",
        "PKD",
        "Bantuan bagi penyandang disabilitas terdaftar di DTKS.",
    ),
    "KAJ": ("Kartu Anak Jakarta", "DINSOS", "PKD", "Bantuan bagi anak usia 0-6 tahun terdaftar di DTKS."),
    "KPJ": (
        "Kartu Pekerja Jakarta",
        "DISNAKERTRANSGI",
        None,
        "Subsidi pangan dan transportasi bagi pekerja berpenghasilan setara UMP.",
    ),
}
EDUCATION_PROGRAMMES = ("KJP_PLUS", "KJMU")
RECENT_DISBURSEMENTS = 12


def programme_entry(
    code, status, since, monthly_amount, next_disbursement_on, bank, account_number, disbursements
) -> dict:
    name = PROGRAMMES.get(code, (code,))[0]
    recent = sorted(disbursements, key=lambda d: d["period"], reverse=True)[:RECENT_DISBURSEMENTS]
    return {
        "code": code,
        "name": name,
        "status": status,
        "since": iso(since),
        "monthly_amount": monthly_amount,
        "next_disbursement_on": iso(next_disbursement_on),
        "bank": bank,
        "account_masked": mask_number(account_number),
        "disbursements": [
            {
                "period": d["period"],
                "amount": d["amount"],
                "disbursed_on": iso(d["disbursed_on"]),
                "status": d["status"],
            }
            for d in recent
        ],
    }


def local_programmes(subjects: list[Subject], codes: tuple[str, ...] | None = None) -> dict[str, list[dict]]:
    """member_id -> programme entries from the local tables (optionally only some programmes)."""
    by_index = {s.nik_index: s.member_id for s in subjects}
    out: dict[str, list[dict]] = {s.member_id: [] for s in subjects}
    query = db.select(AidEnrolment).where(AidEnrolment.nik_index.in_(list(by_index)))
    if codes:
        query = query.where(AidEnrolment.programme_code.in_(codes))
    enrolments = db.session.scalars(query.order_by(AidEnrolment.since)).all()
    paid: dict[int, list[dict]] = {e.id: [] for e in enrolments}
    if enrolments:
        for d in db.session.scalars(db.select(AidDisbursement).where(AidDisbursement.enrolment_id.in_(list(paid)))):
            paid[d.enrolment_id].append(
                {"period": d.period, "amount": d.amount, "disbursed_on": d.disbursed_on, "status": d.status}
            )
    for e in enrolments:
        out[by_index[e.nik_index]].append(
            programme_entry(
                e.programme_code,
                e.status,
                e.since,
                e.monthly_amount,
                e.next_disbursement_on,
                e.bank,
                e.account_number,
                paid[e.id],
            )
        )
    return out


class LocalSocialAid(LocalConnector):
    domain = "social_aid"
    agency_code = "DINSOS"

    def fetch(self, subjects: list[Subject]) -> dict[str, dict]:
        by_index = {s.nik_index: s.member_id for s in subjects}
        programmes = local_programmes(subjects)
        out = {
            s.member_id: {
                "dtks": {"registered": False, "desil": None, "verified_on": None},
                "programmes": programmes[s.member_id],
            }
            for s in subjects
        }
        for entry in db.session.scalars(db.select(DtksEntry).where(DtksEntry.nik_index.in_(list(by_index)))):
            out[by_index[entry.nik_index]]["dtks"] = {
                "registered": True,
                "desil": entry.desil,
                "verified_on": iso(entry.verified_on),
            }
        return out


class DisbursementSchema(AgencySchema):
    period = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))
    amount = fields.Integer(required=True, validate=validate.Range(0, 100_000_000))
    disbursed_on = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(DISBURSEMENT_STATUSES))


class ProgrammeSchema(AgencySchema):
    code = fields.String(required=True, validate=validate.OneOf(tuple(PROGRAMMES)))
    status = fields.String(required=True, validate=validate.OneOf(ENROLMENT_STATUSES))
    since = fields.Date(required=True)
    monthly_amount = fields.Integer(required=True, validate=validate.Range(0, 100_000_000))
    next_disbursement_on = fields.Date(load_default=None, allow_none=True)
    bank = fields.String(load_default="Bank DKI", validate=validate.Length(min=1, max=30))
    account_number = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^\d{6,20}$"))
    disbursements = fields.List(fields.Nested(DisbursementSchema), load_default=list, validate=validate.Length(max=120))


class DtksSchema(AgencySchema):
    registered = fields.Boolean(required=True)
    desil = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 10))
    verified_on = fields.Date(load_default=None, allow_none=True)


class SocialAidAnswerSchema(AgencySchema):
    dtks = fields.Nested(DtksSchema, required=True)
    # Required: a missing list would read as "no aid" (404 is how "no records" is said).
    programmes = fields.List(fields.Nested(ProgrammeSchema), required=True, validate=validate.Length(max=20))


def present_programmes(loaded: list[dict], codes: tuple[str, ...] | None = None) -> list[dict]:
    return [
        programme_entry(
            p["code"],
            p["status"],
            p["since"],
            p["monthly_amount"],
            p["next_disbursement_on"],
            p["bank"],
            p["account_number"],
            p["disbursements"],
        )
        for p in sorted(loaded, key=lambda p: p["since"])
        if codes is None or p["code"] in codes
    ]


class HttpSocialAid(HttpConnector):
    domain = "social_aid"
    agency_code = "DINSOS"
    path = "/v1/residents/bansos/query"
    schema = SocialAidAnswerSchema

    def empty(self) -> dict:
        return {"dtks": {"registered": False, "desil": None, "verified_on": None}, "programmes": []}

    def present(self, loaded: dict) -> dict:
        dtks = loaded["dtks"]
        return {
            "dtks": {
                "registered": dtks["registered"],
                "desil": dtks["desil"] if dtks["registered"] else None,
                "verified_on": iso(dtks["verified_on"]),
            },
            "programmes": present_programmes(loaded["programmes"]),
        }


register_domain(
    DomainSpec("social_aid", "DINSOS", LocalSocialAid, HttpSocialAid, dependents=True, officer_agencies=("DINSOS",))
)
