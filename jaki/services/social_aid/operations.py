"""Cek bansos (eligibility by NIK, own household only) and recording disbursements (bansos.disbursed)."""

from __future__ import annotations

import calendar
from datetime import date

from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jaki import audit
from jaki.auth.crypto import nik_index
from jaki.auth.models import Resident, User
from jaki.auth.operations import parse_nik
from jaki.clients.agencies import agency_client
from jaki.clients.agency_client import AgencyError, AgencyNotFound, AgencySchema
from jaki.db import utcnow
from jaki.errors import Conflict, Forbidden, NotFound, Unavailable
from jaki.events import record_event
from jaki.extensions import db
from jaki.pdp.access import record_agency_pulls
from jaki.services.education.models import SchoolEnrolment
from jaki.services.household import ADULT_AGE, GUARDIAN_RELATIONS, age_on, household_for
from jaki.services.operations import agency_name
from jaki.services.social_aid.connectors import PROGRAMMES
from jaki.services.social_aid.models import AidDisbursement, AidEnrolment, DtksEntry
from jaki.timezone import jakarta_today

SCHOOL_LEVELS = ("sd", "smp", "sma", "smk", "slb", "pkbm")
# The rules a citizen can check against; the agency's own decision (with verification visits) is what counts.
CHECKED = ("KJP_PLUS", "KJMU", "KLJ", "KPDJ", "KAJ")


def _rules(age: int, dtks: DtksEntry | None, school: bool, university: bool) -> dict[str, list[str]]:
    """programme -> reasons it does not apply (empty: eligible)."""
    base = [] if dtks is not None else ["not_in_dtks"]
    return {
        "KJP_PLUS": base + ([] if 6 <= age <= 21 else ["age_out_of_range"]) + ([] if school else ["not_in_school"]),
        "KJMU": base + ([] if age <= 25 else ["age_out_of_range"]) + ([] if university else ["not_in_university"]),
        "KLJ": base + ([] if age >= 60 else ["age_out_of_range"]),
        "KPDJ": base + ([] if dtks is not None and dtks.disability else ["no_disability_record"]),
        "KAJ": base + ([] if age <= 6 else ["age_out_of_range"]),
    }


def _local_eligibility(nik_index: str, born: date) -> dict:
    dtks = db.session.get(DtksEntry, nik_index)
    active = db.session.scalars(
        select(SchoolEnrolment.level).where(SchoolEnrolment.nik_index == nik_index, SchoolEnrolment.status == "aktif")
    ).all()
    statuses = dict(
        db.session.execute(
            select(AidEnrolment.programme_code, AidEnrolment.status).where(AidEnrolment.nik_index == nik_index)
        ).all()
    )
    age = age_on(born, jakarta_today(utcnow()))
    rules = _rules(age, dtks, any(level in SCHOOL_LEVELS for level in active), "pt" in active)
    return {
        "dtks": {"registered": dtks is not None, "desil": dtks.desil if dtks else None},
        "programmes": [
            {"code": code, "eligible": not reasons, "reasons": reasons, "enrolment_status": statuses.get(code)}
            for code, reasons in rules.items()
        ],
    }


class EligibleSchema(AgencySchema):
    code = fields.String(required=True, validate=validate.OneOf(tuple(PROGRAMMES)))
    eligible = fields.Boolean(required=True)
    reasons = fields.List(
        fields.String(validate=validate.Regexp(r"^[a-z_]{1,40}$")), load_default=list, validate=validate.Length(max=10)
    )
    enrolment_status = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))


class DtksBriefSchema(AgencySchema):
    registered = fields.Boolean(required=True)
    desil = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 10))


class EligibilityAnswerSchema(AgencySchema):
    dtks = fields.Nested(DtksBriefSchema, required=True)
    programmes = fields.List(fields.Nested(EligibleSchema), required=True, validate=validate.Length(max=20))


def programmes() -> list[dict]:
    return [
        {"code": code, "name": name, "agency_code": agency, "umbrella": umbrella, "description": text}
        for code, (name, agency, umbrella, text) in PROGRAMMES.items()
    ]


def check_eligibility(user, nik: str) -> dict:
    """Cek bansos for the user or a dependent. Any other NIK is refused the same way whether it exists or not."""
    nik = parse_nik(nik).value
    household = household_for(user)
    member = household.find_nik(nik)
    if member is None:
        raise Forbidden("nik_not_in_household")
    client = agency_client("DINSOS")
    if client is not None:
        try:
            # The NIK in the body, never in the URL (UU PDP).
            answer = client.query_json("/v1/residents/eligibility/query", {"nik": nik}, schema=EligibilityAnswerSchema)
        except AgencyNotFound:
            answer = {"dtks": {"registered": False, "desil": None}, "programmes": []}
        except AgencyError as exc:
            raise Unavailable("agency_unavailable", agency=agency_name("DINSOS"), reason=exc.reason) from None

        fields = ("dtks", "programmes")
        record_agency_pulls(
            db.session, [("social_aid", "DINSOS", fields, [member.subject.nik_index])], purpose="cek bansos"
        )
        db.session.commit()  # the person's access log (jaki.pdp)
    else:
        answer = _local_eligibility(member.subject.nik_index, member.birth_date)
    return {
        **member.header(),
        "checked_at": utcnow(),
        "dtks": answer["dtks"],
        "programmes": [{**p, "name": PROGRAMMES[p["code"]][0]} for p in answer["programmes"]],
    }


# ---- disbursements ----------------------------------------------------------------------------------


def _add_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _recipients(nik_index: str) -> list[str]:
    """The beneficiary's own account and, for a child, both parents in their household (jaki.services.household)."""
    ids = set(db.session.scalars(select(User.id).where(User.nik_index == nik_index, User.status == "active")))
    resident = db.session.scalar(select(Resident).where(Resident.nik_index == nik_index))
    if resident is not None and age_on(resident.birth_date, jakarta_today(utcnow())) < ADULT_AGE:
        parents = db.session.scalars(
            select(Resident.nik_index).where(
                Resident.kk_index == resident.kk_index, Resident.family_relation.in_(GUARDIAN_RELATIONS)
            )
        ).all()
        if parents:
            ids.update(
                db.session.scalars(
                    select(User.id).where(
                        User.nik_index.in_(parents), User.kk_index == resident.kk_index, User.status == "active"
                    )
                )
            )
    return sorted(ids)


def record_disbursement(officer, data: dict) -> AidDisbursement:
    """An officer of the programme's agency records a payment; the beneficiary (and parent) are notified."""
    code = data["programme_code"]
    programme_agency = PROGRAMMES[code][1]
    if officer.role not in ("officer", "agency_admin") or officer.agency_code != programme_agency:
        raise Forbidden("domain_not_for_agency")
    index = nik_index(parse_nik(data["nik"]).value)
    enrolment = db.session.scalar(
        select(AidEnrolment).where(AidEnrolment.nik_index == index, AidEnrolment.programme_code == code)
    )
    if enrolment is None:
        raise NotFound("enrolment_not_found")
    if enrolment.status != "aktif":
        raise Conflict("enrolment_not_active")
    disbursement = AidDisbursement(
        enrolment_id=enrolment.id,
        period=data["period"],
        amount=data["amount"],
        disbursed_on=data["disbursed_on"],
        status="cair",
    )
    try:
        with db.session.begin_nested():
            db.session.add(disbursement)
    except IntegrityError:
        raise Conflict("disbursement_exists") from None
    if enrolment.next_disbursement_on is None or enrolment.next_disbursement_on <= data["disbursed_on"]:
        enrolment.next_disbursement_on = _add_month(data["disbursed_on"])
    record_event(
        db.session,
        "bansos.disbursed",
        "bansos",
        disbursement.id,
        {
            "recipients": _recipients(index),
            "data": {"disbursement_id": str(disbursement.id), "programme": code, "period": data["period"]},
        },
    )
    person = db.session.scalar(select(User.id).where(User.nik_index == index))
    audit.record(
        db.session,
        actor=officer,
        subject_id=person,
        action="social_aid.disbursement.record",
        fields=("programme", "period", "amount"),
        reason=f"disbursement {code} {data['period']}",
        subject_index=index,  # a child's payment: the parents' access log shows it
    )
    db.session.commit()
    return disbursement
