"""Demo records of the public services for the demo households, and staff for permits, letters and aid."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from jaki.auth import nik as nik_mod
from jaki.auth.crypto import nik_index
from jaki.auth.models import User
from jaki.db import utcnow
from jaki.demo import HOUSEHOLDS, seed_staff
from jaki.extensions import db
from jaki.services.education.models import SchoolEnrolment
from jaki.services.health.models import HealthVisit, Immunisation, JknMembership
from jaki.services.permits import operations, workflow
from jaki.services.permits.models import Application, ApplicationDocument, ApplicationEvent, ApplicationType
from jaki.services.permits.sla import WIB
from jaki.services.reference import load_reference
from jaki.services.social_aid.models import AidDisbursement, AidEnrolment, DtksEntry
from jaki.services.tax.models import TaxBill


def seed_reference() -> None:
    """The real reference data (jaki.services.reference), which the demo builds on."""
    load_reference()


# (name, kecamatan, birth date, sex, serial, role, agency, areas, phone)
STAFF = [
    ("Yuliana Siregar", "317101", date(1986, 2, 14), "F", 111, "officer", "DPMPTSP", ["31"], "081200000111"),
    (
        "Bambang Hartono",
        "317405",
        date(1979, 10, 5),
        "M",
        112,
        "officer",
        "KELURAHAN",
        ["31.74.05.1002"],
        "081200000112",
    ),
    ("Sri Wahyuni", "317405", date(1983, 4, 21), "F", 113, "officer", "KECAMATAN", ["31.74.05"], "081200000113"),
    ("dr. Lestari Putri", "317405", date(1988, 9, 30), "F", 114, "officer", "DINKES", ["31.74"], "081200000114"),
    ("Dodi Kurniawan", "317101", date(1984, 12, 12), "M", 115, "officer", "DINSOS", ["31"], "081200000115"),
]


def _demo_people() -> dict[str, str]:
    """first name -> NIK of the demo residents (jaki.demo.HOUSEHOLDS)."""
    people = {}
    for kec, _kel, _kk, _address, members in HOUSEHOLDS:
        for name, born, sex, _relation, serial in members:
            people[name.split()[0]] = nik_mod.build(kec, born, sex, serial)
    return people


def _at(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _months_back(today: date, n: int, day: int = 15) -> list[date]:
    out, year, month = [], today.year, today.month
    for _ in range(n):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(date(year, month, day))
    return out


def _next_month(today: date, day: int = 15) -> date:
    return date(today.year + (today.month == 12), today.month % 12 + 1, day)


def seed_records() -> None:
    """Realistic records for the demo residents; skipped for anyone who already has them."""
    people = _demo_people()
    today = utcnow().astimezone(WIB).date()
    idx = {name: nik_index(nik) for name, nik in people.items()}
    if db.session.get(DtksEntry, idx["Siti"]) is not None:
        return  # seeded before

    # JKN (BPJS Kesehatan): Siti's family pays itself (PBPU, class 2); Ahmad's is through his employer (PPU).
    jkn = [
        ("Siti", "0001234500011", "PBPU", 2, "0901U034", "Puskesmas Kecamatan Kebayoran Lama"),
        ("Budi", "0001234500012", "PBPU", 2, "0901U034", "Puskesmas Kecamatan Kebayoran Lama"),
        ("Rizky", "0001234500013", "PBPU", 2, "0901U034", "Puskesmas Kecamatan Kebayoran Lama"),
        ("Aisyah", "0001234500014", "PBPU", 2, "0901U034", "Puskesmas Kecamatan Kebayoran Lama"),
        ("Ahmad", "0002876500021", "PPU", 1, "0901K112", "Klinik Pratama Cipulir Sehat"),
        ("Dewi", "0002876500022", "PPU", 1, "0901K112", "Klinik Pratama Cipulir Sehat"),
        ("Nur", "0002876500023", "PPU", 1, "0901K112", "Klinik Pratama Cipulir Sehat"),
        ("Maria", "0003555500031", "PBI_APBD", 3, "0902U001", "Puskesmas Kecamatan Gambir"),
    ]
    for name, card, segment, care_class, code, faskes in jkn:
        db.session.add(
            JknMembership(
                nik_index=idx[name],
                card_number=card,
                segment=segment,
                care_class=care_class,
                status="aktif",
                faskes_code=code,
                faskes_name=faskes,
                valid_until=date(today.year, 12, 31),
            )
        )

    # Children's immunisations (Kemenkes schedule: basic in the first year, BIAS at school).
    rizky = [
        ("Hepatitis B (HB-0)", 1, date(2014, 5, 20)),
        ("BCG", 1, date(2014, 6, 20)),
        ("Polio tetes (OPV)", 1, date(2014, 6, 20)),
        ("DPT-HB-Hib", 1, date(2014, 7, 21)),
        ("Polio tetes (OPV)", 2, date(2014, 7, 21)),
        ("DPT-HB-Hib", 2, date(2014, 8, 20)),
        ("Polio tetes (OPV)", 3, date(2014, 8, 20)),
        ("DPT-HB-Hib", 3, date(2014, 9, 22)),
        ("Polio tetes (OPV)", 4, date(2014, 9, 22)),
        ("Campak", 1, date(2015, 2, 23)),
        ("MR (BIAS kelas 1)", 1, date(2021, 8, 16)),
        ("DT (BIAS kelas 1)", 1, date(2021, 11, 15)),
        ("Td (BIAS kelas 2)", 1, date(2022, 11, 14)),
        ("Td (BIAS kelas 5)", 2, date(2025, 11, 17)),
    ]
    aisyah = [
        ("Hepatitis B (HB-0)", 1, date(2018, 9, 9)),
        ("BCG", 1, date(2018, 10, 10)),
        ("Polio tetes (OPV)", 1, date(2018, 10, 10)),
        ("DPT-HB-Hib", 1, date(2018, 11, 12)),
        ("DPT-HB-Hib", 2, date(2018, 12, 10)),
        ("DPT-HB-Hib", 3, date(2019, 1, 14)),
        ("IPV", 1, date(2019, 1, 14)),
        ("MR", 1, date(2019, 6, 10)),
        ("MR (lanjutan)", 2, date(2020, 3, 9)),
        ("MR (BIAS kelas 1)", 1, date(2025, 8, 11)),
        ("DT (BIAS kelas 1)", 1, date(2025, 11, 10)),
    ]
    for name, doses in (("Rizky", rizky), ("Aisyah", aisyah)):
        for vaccine, dose, given in doses:
            place = "Posyandu Melati RW 04 Pondok Pinang" if given.year < 2020 else "Sekolah (BIAS)"
            db.session.add(Immunisation(nik_index=idx[name], vaccine=vaccine, dose=dose, given_on=given, place=place))
    db.session.add(
        HealthVisit(
            nik_index=idx["Aisyah"],
            scheduled_for=_at(today + timedelta(days=5), 2),
            kind="imunisasi",
            facility="SD Negeri Pondok Pinang 05",
            purpose="BIAS Td kelas 2",
        )
    )
    db.session.add(
        HealthVisit(
            nik_index=idx["Siti"],
            scheduled_for=_at(today + timedelta(days=12), 1),
            kind="skrining",
            facility="Puskesmas Kecamatan Kebayoran Lama",
            purpose="Cek kesehatan gratis (CKG)",
        )
    )

    # Schools and university; the academic year starts in July.
    year = today.year if today.month >= 7 else today.year - 1
    academic = f"{year}/{year + 1}"
    db.session.add_all(
        [
            SchoolEnrolment(
                nik_index=idx["Rizky"],
                school_name="SMP Negeri 48 Jakarta",
                npsn="20102546",
                level="smp",
                grade="7",
                academic_year=academic,
                status="aktif",
            ),
            SchoolEnrolment(
                nik_index=idx["Rizky"],
                school_name="SD Negeri Pondok Pinang 05",
                npsn="20102871",
                level="sd",
                grade="6",
                academic_year=f"{year - 1}/{year}",
                status="lulus",
            ),
            SchoolEnrolment(
                nik_index=idx["Aisyah"],
                school_name="SD Negeri Pondok Pinang 05",
                npsn="20102871",
                level="sd",
                grade="2",
                academic_year=academic,
                status="aktif",
            ),
            SchoolEnrolment(
                nik_index=idx["Nur"],
                school_name="Universitas Negeri Jakarta",
                npsn="001009",
                level="pt",
                grade="semester 3",
                academic_year=academic,
                status="aktif",
            ),
        ]
    )

    # Welfare register and aid: Siti's household (desil 3) has KJP Plus for both children; Maria has KLJ.
    verified = date(today.year, 2, 10)
    for name, desil in (
        ("Siti", 3),
        ("Budi", 3),
        ("Rizky", 3),
        ("Aisyah", 3),
        ("Ahmad", 4),
        ("Dewi", 4),
        ("Nur", 4),
        ("Maria", 2),
    ):
        db.session.add(DtksEntry(nik_index=idx[name], desil=desil, verified_on=verified))
    enrolments = [
        ("Rizky", "KJP_PLUS", date(2024, 1, 15), 300_000, "5001234501"),
        ("Aisyah", "KJP_PLUS", date(2025, 8, 15), 250_000, "5001234502"),
        ("Nur", "KJMU", date(year, 9, 1), 1_500_000, "5002876503"),
        ("Maria", "KLJ", date(2023, 4, 15), 300_000, "5003555504"),
    ]
    for name, code, since, amount, account in enrolments:
        enrolment = AidEnrolment(
            nik_index=idx[name],
            programme_code=code,
            status="aktif",
            since=since,
            monthly_amount=amount,
            next_disbursement_on=_next_month(today),
            bank="Bank DKI",
            account_number=account,
        )
        db.session.add(enrolment)
        db.session.flush()
        for paid_on in _months_back(today, 3):
            if paid_on >= since:
                db.session.add(
                    AidDisbursement(
                        enrolment_id=enrolment.id,
                        period=f"{paid_on:%Y-%m}",
                        amount=amount,
                        disbursed_on=paid_on,
                        status="cair",
                    )
                )

    # Tax: since 2025 one home up to Rp2 billion NJOP is exempt from PBB; the motorbike's PKB is due in 6 days.
    db.session.add_all(
        [
            TaxBill(
                nik_index=idx["Siti"],
                kind="pbb",
                object_id="31.74.050.002.012-0123.0",
                object_label="Jl. Pondok Pinang Raya No. 12, RT 003/RW 004, Pondok Pinang",
                tax_year=today.year,
                amount=0,
                exemption="pembebasan_pbb_rumah_tinggal",
                due_on=date(today.year, 8, 31),
            ),
            TaxBill(
                nik_index=idx["Siti"],
                kind="pkb",
                object_id="B 3217 SRH",
                object_label="Honda Vario 125 (2021)",
                tax_year=today.year,
                amount=412_000,
                due_on=today + timedelta(days=6),
                payment_code=f"PKB-{today.year}-000101",
            ),
            TaxBill(
                nik_index=idx["Budi"],
                kind="pkb",
                object_id="B 1918 PKY",
                object_label="Toyota Avanza 1.3 G (2019)",
                tax_year=today.year,
                amount=3_186_000,
                due_on=today + timedelta(days=40),
                payment_code=f"PKB-{today.year}-000102",
            ),
            TaxBill(
                nik_index=idx["Ahmad"],
                kind="pbb",
                object_id="31.74.050.003.007-0045.0",
                object_label="Jl. Cipulir V No. 7, RT 001/RW 002, Cipulir",
                tax_year=today.year,
                amount=1_254_300,
                due_on=date(today.year, 8, 31),
                paid_at=_at(date(today.year, 8, 20), 3),
            ),
            TaxBill(
                nik_index=idx["Ahmad"],
                kind="pkb",
                object_id="B 4471 UKF",
                object_label="Yamaha NMAX (2022)",
                tax_year=today.year,
                amount=598_500,
                due_on=today + timedelta(days=1),
                payment_code=f"PKB-{today.year}-000103",
            ),
        ]
    )
    db.session.flush()


def seed_applications() -> None:
    """Siti asked for letters (one issued, one submitted); Ahmad applied for an SLF."""
    people = _demo_people()
    siti = db.session.scalar(select(User).where(User.nik_index == nik_index(people["Siti"])))
    ahmad = db.session.scalar(select(User).where(User.nik_index == nik_index(people["Ahmad"])))
    if siti is None or ahmad is None:
        return
    if db.session.scalar(select(Application.id).where(Application.applicant_id.in_((siti.id, ahmad.id)))):
        return
    kelurahan_officer = db.session.scalar(select(User).where(User.agency_code == "KELURAHAN"))
    dpmptsp_officer = db.session.scalar(select(User).where(User.agency_code == "DPMPTSP"))

    def with_documents(application):
        # Demo placeholders: metadata only, no file stored (downloading one answers 503).
        for item in application.type.documents:
            if item["required"]:
                application.documents.append(
                    ApplicationDocument(
                        kind=item["kind"],
                        filename=f"{item['kind']}.pdf",
                        content_type="application/pdf",
                        size=48_213,
                        storage_key=f"demo/{application.reference}/{item['kind']}.pdf",
                    )
                )

    skd = Application(
        reference=operations.new_reference("SKD"),
        kind="letter",
        type_code="SKD",
        applicant_id=siti.id,
        area_code="31.74.05.1002",
        purpose="Melamar pekerjaan",
    )
    sktm = Application(
        reference=operations.new_reference("SKTM"),
        kind="letter",
        type_code="SKTM",
        applicant_id=siti.id,
        area_code="31.74.05.1002",
        purpose="Keringanan biaya sekolah anak",
    )
    slf = Application(
        reference=operations.new_reference("SLF"),
        kind="permit",
        type_code="SLF",
        applicant_id=ahmad.id,
        area_code="31.74.05.1003",
        object_address="Jl. Cipulir V No. 7",
        purpose="Rumah tinggal dua lantai",
    )
    for application, applicant in ((skd, siti), (sktm, siti), (slf, ahmad)):
        application.type = db.session.get(ApplicationType, application.type_code)
        application.events.append(ApplicationEvent(to_status="draft", actor_id=applicant.id, actor_role="citizen"))
        db.session.add(application)
        with_documents(application)
    db.session.flush()
    operations.move(skd, "submitted", siti, workflow.APPLICANT)
    if kelurahan_officer is not None:
        operations.move(skd, "in_process", kelurahan_officer, workflow.OFFICER)
        skd.decision_number = f"SKD/{utcnow():%Y}/0412"
        operations.move(skd, "issued", kelurahan_officer, workflow.OFFICER)
    operations.move(sktm, "submitted", siti, workflow.APPLICANT)
    operations.move(slf, "submitted", ahmad, workflow.APPLICANT)
    if dpmptsp_officer is not None:
        operations.move(slf, "in_verification", dpmptsp_officer, workflow.OFFICER)
    db.session.flush()


def seed_services() -> list[str]:
    """The demo seeder (jaki.demo.SEEDERS): idempotent. Returns the staff logins to print."""
    seed_reference()
    logins = seed_staff(STAFF)
    seed_records()
    seed_applications()
    db.session.commit()
    return [f"  {role:<12} NIK {nik}  ({agency})" for agency, role, nik in logins]
