"""Fixtures of the public-services tests: the demo households with their records, fake agencies over HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from jaki.auth import nik as nik_mod
from jaki.auth.crypto import nik_index
from jaki.auth.models import User
from jaki.clients import agencies as agency_clients
from jaki.extensions import db
from tests.support.fake_agency import FakeAgency, nik_in_body

# Fast deadlines so that failing agencies cost the suite little; retries without real backoff.
FAST = {
    "AGENCY_CONNECT_TIMEOUT": 0.5,
    "AGENCY_READ_TIMEOUT": 0.6,
    "AGENCY_TOTAL_TIMEOUT": 0.8,
    "AGENCY_RETRIES": 1,
    "AGENCY_BACKOFF_BASE": 0.01,
    "AGENCY_MAX_RESPONSE_BYTES": 64 * 1024,
    "AGENCY_BREAKER_FAILURES": 3,
    "AGENCY_BREAKER_WINDOW_SECONDS": 30,
    "AGENCY_BREAKER_OPEN_SECONDS": 0.3,
    "SERVICES_OVERVIEW_DEADLINE_SECONDS": 2.0,
    "SERVICES_POOL_SIZE": 8,
}
AGENCY_DOMAINS = {
    "DINKES": "health",
    "DISDIK": "education",
    "DINSOS": "social_aid",
    "BAPENDA": "tax",
    "DPMPTSP": "permits",
}


@dataclass
class Demo:
    """The demo households (jaki.demo) with the records jaki.services.demo gives them."""

    niks: dict[str, str]  # first name -> NIK
    siti: User
    ahmad: User

    def user(self, name: str) -> User:
        return db.session.scalar(select(User).where(User.nik_index == nik_index(self.niks[name])))


def demo_niks() -> dict[str, str]:
    from jaki.demo import HOUSEHOLDS

    return {
        name.split()[0]: nik_mod.build(kec, born, sex, serial)
        for kec, _kel, _kk, _address, members in HOUSEHOLDS
        for name, born, sex, _rel, serial in members
    }


@pytest.fixture
def demo(ctx):
    """Residents, Siti's and Ahmad's accounts, the 52 agencies, staff and every service record."""
    from jaki import demo as core_demo
    from jaki.services.demo import seed_services

    core_demo._upsert_agencies()
    core_demo.seed_residents()
    for index in (0, 1):
        kec, kel, kk, _address, members = core_demo.HOUSEHOLDS[index]
        head = members[0]
        core_demo._account_for(nik_mod.build(kec, head[1], head[2], head[4]), head, kel, kk)
    db.session.flush()
    seed_services()
    niks = demo_niks()
    found = {
        name: db.session.scalar(select(User).where(User.nik_index == nik_index(niks[name])))
        for name in ("Siti", "Ahmad")
    }
    return Demo(niks, found["Siti"], found["Ahmad"])


def staff(agency: str) -> User:
    """The demo officer of an agency (jaki.services.demo.STAFF)."""
    return db.session.scalar(select(User).where(User.agency_code == agency, User.role == "officer"))


@pytest.fixture
def settings(app):
    """Change app settings for one test; the connectors' clients and breakers are rebuilt, then restored."""
    saved = {}

    def apply(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key, _MISSING))
            app.config[key] = value
        agency_clients.reset(app)

    yield apply
    for key, value in saved.items():
        if value is _MISSING:
            app.config.pop(key, None)
        else:
            app.config[key] = value
    agency_clients.reset(app)


_MISSING = object()


def agency_payloads(niks: dict[str, str]) -> dict[str, dict]:
    """What each fake agency answers for the demo people (other NIKs: 404, no records), written per person's path;
    the fakes serve them as body lookups (tests.support.fake_agency.nik_in_body)."""
    siti, rizky, aisyah = niks["Siti"], niks["Rizky"], niks["Aisyah"]
    return {
        "DINKES": {
            f"/v1/residents/{siti}/health": {
                "nik": siti,
                "diagnosis": "SHOULD-NEVER-BE-SHOWN",
                "jkn": {
                    "card_number": "0001234500011",
                    "segment": "PBPU",
                    "care_class": 2,
                    "status": "aktif",
                    "faskes_code": "0901U034",
                    "faskes_name": "Puskesmas Kecamatan Kebayoran Lama",
                    "valid_until": "2026-12-31",
                },
                "immunisations": [],
                "visits": [],
            },
            f"/v1/residents/{rizky}/health": {
                "jkn": None,
                "immunisations": [
                    {"vaccine": "BCG", "dose": 1, "given_on": "2014-06-20", "place": "Posyandu"},
                    {"vaccine": "Campak", "dose": 1, "given_on": "2015-02-23"},
                ],
                "visits": [
                    {
                        "scheduled_for": "2099-01-05T09:00:00+07:00",
                        "kind": "imunisasi",
                        "facility": "SMP Negeri 48 Jakarta",
                        "purpose": "BIAS",
                    }
                ],
            },
            f"/v1/residents/{aisyah}/health": {"jkn": None, "immunisations": [], "visits": []},
        },
        "DISDIK": {
            f"/v1/residents/{rizky}/education": {
                "enrolments": [
                    {
                        "school_name": "SMP Negeri 48 Jakarta",
                        "npsn": "20102546",
                        "level": "smp",
                        "grade": "7",
                        "academic_year": "2026/2027",
                        "status": "aktif",
                    }
                ],
                "scholarships": [
                    {
                        "code": "KJP_PLUS",
                        "status": "aktif",
                        "since": "2024-01-15",
                        "monthly_amount": 300000,
                        "next_disbursement_on": "2026-12-15",
                        "account_number": "5001234501",
                        "disbursements": [
                            {"period": "2026-10", "amount": 300000, "disbursed_on": "2026-10-15", "status": "cair"}
                        ],
                    }
                ],
            },
        },
        "DINSOS": {
            f"/v1/residents/{siti}/bansos": {"dtks": {"registered": True, "desil": 3}, "programmes": []},
            f"/v1/residents/{siti}/eligibility": {
                "dtks": {"registered": True, "desil": 3},
                "programmes": [{"code": "KLJ", "eligible": False, "reasons": ["age_out_of_range"]}],
            },
        },
        "BAPENDA": {
            f"/v1/taxpayers/{siti}/bills": {
                "bills": [
                    {
                        "bill_id": "PKB-2026-1",
                        "kind": "pkb",
                        "object_id": "B 3217 SRH",
                        "object_label": "Honda Vario 125",
                        "tax_year": 2026,
                        "amount": 412000,
                        "due_on": "2026-11-29",
                    }
                ]
            },
        },
        "DPMPTSP": {f"/v1/applicants/{siti}/applications": {"applications": []}},
    }


@pytest.fixture
def agencies(demo, settings):
    """One real HTTP fake agency per domain on 127.0.0.1, wired in through AGENCY_<CODE>_URL."""
    payloads = agency_payloads(demo.niks)
    fakes = {code: FakeAgency(nik_in_body(payloads[code])).start() for code in AGENCY_DOMAINS}
    try:
        settings(**FAST, **{f"AGENCY_{code}_URL": fake.url for code, fake in fakes.items()})
        yield fakes
    finally:
        for fake in fakes.values():
            fake.close()
