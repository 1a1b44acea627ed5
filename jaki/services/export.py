"""UU PDP data export: what jaki itself holds about the person in each public-service domain."""

from __future__ import annotations

from sqlalchemy import select

from jaki.auth.crypto import nik_index
from jaki.extensions import db
from jaki.services.cache import section_cache
from jaki.services.connectors import Subject, iso
from jaki.services.education.connectors import LocalEducation
from jaki.services.health.connectors import LocalHealth
from jaki.services.household import member_id
from jaki.services.permits.models import Application
from jaki.services.social_aid.connectors import LocalSocialAid
from jaki.services.tax.connectors import LocalTax


def _self_subject(user):
    nik = user.nik
    return Subject(member_id(nik), nik, nik_index(nik))


def _local(cls, user) -> dict:
    # The local tables, whatever connector is configured: this is what jaki holds, not what agencies hold.
    subject = _self_subject(user)
    return cls().fetch([subject])[subject.member_id]


def health(user) -> dict:
    return _local(LocalHealth, user)


def education(user) -> dict:
    return _local(LocalEducation, user)


def social_aid(user) -> dict:
    return _local(LocalSocialAid, user)


def tax(user) -> dict:
    return _local(LocalTax, user)


def _applications(user, kind: str) -> list[dict]:
    rows = db.session.scalars(
        select(Application)
        .where(Application.applicant_id == user.id, Application.kind == kind)
        .order_by(Application.created_at)
    ).all()
    return [
        {
            "reference": a.reference,
            "type_code": a.type_code,
            "status": a.status,
            "area_code": a.area_code,
            "object_address": a.object_address,
            "purpose": a.purpose,
            "created_at": iso(a.created_at),
            "submitted_at": iso(a.submitted_at),
            "sla_due_at": iso(a.sla_due_at),
            "decided_at": iso(a.decided_at),
            "decision_number": a.decision_number,
            "documents": [
                {
                    "kind": d.kind,
                    "filename": d.filename,
                    "content_type": d.content_type,
                    "size": d.size,
                    "uploaded_at": iso(d.uploaded_at),
                }
                for d in a.documents
            ],
            "timeline": [
                {
                    "at": iso(e.at),
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "actor_role": e.actor_role,
                    "note": e.note,
                }
                for e in a.events
            ],
        }
        for a in rows
    ]


def permits(user) -> list[dict]:
    return _applications(user, "permit")


def letters(user) -> list[dict]:
    return _applications(user, "letter")


def cached_answers(user) -> dict:
    """Copies of agency answers kept for the overview (up to SERVICES_CACHE_STALE_SECONDS old)."""
    return {
        domain: {"as_of": iso(entry.as_of), "data": entry.data}
        for domain, entry in section_cache().export(user.id).items()
    }


SECTIONS = {
    "health": health,
    "education": education,
    "social_aid": social_aid,
    "tax": tax,
    "permits": permits,
    "letters": letters,
    "services_cached_answers": cached_answers,
}
