"""Indonesian (and English) title and body per domain event type; texts carry ids and codes, never personal data.

Event payloads follow jaki.events' contract: {"recipients": [...], "data": {...}}. The templates read these
optional data keys (the ones jaki.reports and jaki.services write) and fall back to a general sentence:
  reference / ref                       short human reference (at most 24 characters), e.g. SKD-20261123-A1B2C3
  public_status / to_status / status    status code, labelled in Indonesian (menunggu, proses, issued, ...)
  agency_code, type_code, programme, kind (pbb|pkb), tax_year, due_on, days_before, period, support_count
  days_left, amount, payment_code, pay_url (tax reminders)
A push is read on a lock screen: nothing here names an illness, a NIK or a citizen's own words. The one amount
is a tax reminder's bill, with its due date and payment code: a reminder has to say what to pay and how.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

STATUS_LABELS = {
    # Reports: JAKI's public labels (jaki.reports.workflow.PUBLIC_LABELS) and the internal codes behind them.
    "menunggu": ("Menunggu", "Waiting"),
    "koordinasi": ("Koordinasi", "Being verified"),
    "disposisi": ("Disposisi", "Dispatched"),
    "proses": ("Proses", "In progress"),
    "selesai": ("Selesai", "Done"),
    "ditolak": ("Ditolak", "Rejected"),
    "digabung": ("Digabung dengan laporan lain", "Merged with another report"),
    "verified": ("Koordinasi", "Being verified"),
    "dispatched": ("Disposisi", "Dispatched"),
    "in_progress": ("Proses", "In progress"),
    "resolved": ("Selesai", "Done"),
    "closed": ("Selesai", "Done"),
    "duplicate": ("Digabung dengan laporan lain", "Merged with another report"),
    # Issue 15: validation before done, and the reporter's withdrawal
    "menunggu_validasi": ("Menunggu Validasi", "Awaiting validation"),
    "awaiting_validation": ("Menunggu Validasi", "Awaiting validation"),
    "dibatalkan": ("Dibatalkan", "Withdrawn"),
    # Permits and letters (jaki.services.permits)
    "draft": ("Draf", "Draft"),
    "submitted": ("Diajukan", "Submitted"),
    "in_verification": ("Diverifikasi", "Being verified"),
    "in_review": ("Ditinjau", "Under review"),
    "in_process": ("Diproses", "Being processed"),
    "revision_requested": ("Perlu perbaikan", "Needs correction"),
    "approved": ("Disetujui", "Approved"),
    "issued": ("Terbit", "Issued"),
    "rejected": ("Ditolak", "Rejected"),
    "withdrawn": ("Dibatalkan", "Withdrawn"),
}
PROGRAMME_NAMES = {"KJP_PLUS": "KJP Plus", "KJMU": "KJMU", "PKD": "PKD", "KLJ": "KLJ", "KPDJ": "KPDJ", "KAJ": "KAJ"}
TAX_NAMES = {"pbb": "PBB-P2", "pkb": "PKB"}

_SHORT = 24  # longer values are ids, not references a person can read
_CODE = re.compile(r"^[\w.\-/ ]+$")
_PAY_URL = re.compile(r"^https://([a-z0-9-]+(\.[a-z0-9-]+)+)(/[\w./-]*)?$")
_MONTHS = (
    (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
)


def _pick(data: dict, *keys: str, max_len: int = _SHORT) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, bool) or value is None:
            continue
        text = str(value).strip()
        if text and len(text) <= max_len and _CODE.match(text):
            return text
    return None


def _status(data: dict, lang: int) -> str | None:
    code = _pick(data, "public_status", "to_status", "new_status", "status")
    if code is None:
        return None
    labels = STATUS_LABELS.get(code.lower())
    return labels[lang] if labels else code.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Template:
    type: str
    label: tuple[str, str]  # shown in the preference list
    title: tuple[str, str]
    fallback: tuple[str, str]  # body when the data lacks what `render_body` needs
    priority: str = "normal"

    def render(self, data: dict, language: str = "id") -> tuple[str, str]:
        lang = 1 if language == "en" else 0
        body = _BODIES[self.type](data, lang)
        return self.title[lang], body or self.fallback[lang]


def _ref(data: dict) -> str:
    ref = _pick(data, "reference", "ref", "report_ref", "report_number")
    return f" {ref}" if ref else ""


def _report_created(d, lang):
    return (
        "Laporan{ref} telah tercatat dan menunggu verifikasi kelurahan.",
        "Report{ref} has been recorded and awaits verification.",
    )[lang].format(ref=_ref(d))


def _report_status(d, lang):
    status = _status(d, lang)
    if not status:
        return None
    original = d.get("duplicate_of_reference")
    if original:  # the merged report's reporter: which report they follow now
        return (
            "Laporan{ref} digabung dengan laporan {original}; perkembangannya kini Anda ikuti di sana.",
            "Report{ref} was merged into report {original}; follow its progress there.",
        )[lang].format(ref=_ref(d), original=original)
    return ("Laporan{ref} kini berstatus {status}.", "Report{ref} is now: {status}.")[lang].format(
        ref=_ref(d), status=status
    )


def _report_assigned(d, lang):
    agency = _pick(d, "agency_code", "agency")
    unit = f" ({agency})" if agency else ""
    return (
        "Laporan{ref} ditugaskan kepada Anda{unit} untuk ditindaklanjuti.",
        "Report{ref} has been assigned to you{unit} for follow-up.",
    )[lang].format(ref=_ref(d), unit=unit)


def _report_comment(d, lang):
    ref = _ref(d)
    return (
        "Ada tanggapan baru pada laporan{ref}. Buka aplikasi untuk membacanya.",
        "There is a new reply on {what}. Open the app to read it.",
    )[lang].format(ref=ref, what=f"report{ref}" if ref else "a report")


def _report_supported(d, lang):
    count = _pick(d, "support_count", "supports")
    if count and count.isdigit():
        return ("Laporan{ref} kini didukung {n} warga.", "Report{ref} is now supported by {n} residents.")[lang].format(
            ref=_ref(d), n=count
        )
    return None


def _report_sla(d, lang):
    return (
        "Laporan{ref} melewati batas waktu tindak lanjut. Mohon segera ditangani.",
        "Report{ref} is past its follow-up deadline. Please act on it now.",
    )[lang].format(ref=_ref(d))


def _permit_status(d, lang):
    status = _status(d, lang)
    if not status:
        return None
    permit = _pick(d, "type_code", "permit_type", "permit")
    what = f" {permit}" if permit and not _ref(d).strip().startswith(permit) else ""
    return ("Permohonan izin{what}{ref} kini berstatus {status}.", "Permit application{what}{ref} is now: {status}.")[
        lang
    ].format(what=what, ref=_ref(d), status=status)


def _letter_status(d, lang):
    status = _status(d, lang)
    if not status:
        return None
    letter = _pick(d, "type_code", "letter_type", "letter")
    what = f" {letter.replace('_', ' ')}" if letter and not _ref(d).strip().startswith(letter) else ""
    return ("Permohonan surat{what}{ref} kini berstatus {status}.", "Letter request{what}{ref} is now: {status}.")[
        lang
    ].format(what=what, ref=_ref(d), status=status)


def _bansos(d, lang):
    program = _pick(d, "programme", "program", "program_code")
    period = _pick(d, "period")
    if not program:
        return None
    program = PROGRAMME_NAMES.get(program, program.replace("_", " "))
    when = (f" periode {period}", f" for {period}")[lang] if period else ""
    return (
        "Bantuan {program}{when} telah disalurkan ke rekening Bank DKI Anda.",
        "{program}{when} has been paid into your Bank DKI account.",
    )[lang].format(program=program, when=when)


def rupiah(amount: int, lang: int = 0) -> str:
    """Rp412.000 (Indonesian) or Rp412,000 (English)."""
    text = f"{amount:,}"
    return "Rp" + (text.replace(",", ".") if lang == 0 else text)


def long_date(value: str, lang: int = 0) -> str | None:
    """8 Desember 2026 / 8 December 2026, from an ISO date."""
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return f"{day.day} {_MONTHS[lang][day.month - 1]} {day.year}"


def _tax_due(d, lang):
    tax = _pick(d, "kind", "tax_type", "tax")
    # days_left is what remains; days_before (older events) only said which reminder it was.
    days = _pick(d, "days_left") or _pick(d, "days_before")
    due = _pick(d, "due_on", "due_date")
    due_text = long_date(due, lang) if due else None
    year = _pick(d, "tax_year")
    what = f" {TAX_NAMES.get(tax.lower(), tax) if tax else ''}".rstrip() + (f" {year}" if year else "")
    amount = d.get("amount")  # an int from the producer, a digit string once cleaned for FCM
    if isinstance(amount, str) and amount.isdigit() and len(amount) <= 13:
        amount = int(amount)
    sum_text = ""
    if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0:
        sum_text = (f" sebesar {rupiah(amount, 0)}", f" of {rupiah(amount, 1)}")[lang]
    if days == "0":
        when = ("hari ini", "today")[lang]
    elif days == "1":
        when = ("besok", "tomorrow")[lang]
    elif days and days.isdigit():
        when = (f"dalam {days} hari", f"in {days} days")[lang]
    elif due_text:
        when = (f"pada {due_text}", f"on {due_text}")[lang]
    else:
        return None
    if due_text and not when.endswith(due_text):
        when += (f", pada {due_text}", f", on {due_text}")[lang]
    text = ("Tagihan pajak{what}{sum} jatuh tempo {when}.", "Your{what} tax bill{sum} is due {when}.")[lang].format(
        what=what, sum=sum_text, when=when
    )
    return text + _how_to_pay(d, lang)


def _how_to_pay(d, lang) -> str:
    code = _pick(d, "payment_code", max_len=40)
    url = d.get("pay_url")
    match = _PAY_URL.match(url) if isinstance(url, str) and len(url) <= 100 else None
    where = (match.group(1) + (match.group(3) or "").rstrip("/")) if match else None
    if code and where:
        return (f" Bayar dengan kode bayar {code} di {where}.", f" Pay with payment code {code} at {where}.")[lang]
    if code:
        return (f" Bayar dengan kode bayar {code}.", f" Pay with payment code {code}.")[lang]
    if where:
        return (f" Bayar di {where}.", f" Pay at {where}.")[lang]
    return ""


def _permit_sla(d, lang):
    permit = _pick(d, "type_code", "permit_type", "permit")
    what = f" {permit}" if permit and not _ref(d).strip().startswith(permit) else ""
    return (
        "Permohonan izin{what}{ref} melewati batas waktu layanan.",
        "Permit application{what}{ref} is past its service deadline.",
    )[lang].format(what=what, ref=_ref(d))


def _letter_sla(d, lang):
    return ("Permohonan surat{ref} melewati batas waktu layanan.", "Letter request{ref} is past its service deadline.")[
        lang
    ].format(ref=_ref(d))


# Personal data (UU PDP, jaki.pdp): the citizen's data rights. Agency codes and references only.
def _pdp_new_agency(d, lang):
    agency = _pick(d, "agency_code")
    if agency is None:
        return None
    return (
        f"{agency} membaca data pribadi Anda untuk pertama kali. Lihat rinciannya di Akses Data Saya.",
        f"{agency} read your personal data for the first time. See the details under My data access.",
    )[lang]


def _pdp_correction(d, lang):
    status = _pick(d, "status")
    labels = {
        "submitted": ("diterima", "received"),
        "acknowledged": ("sedang ditinjau instansi", "being reviewed by the agency"),
        "escalated": ("diteruskan ke pimpinan instansi", "escalated to the agency's management"),
        "corrected": ("selesai: data telah diperbaiki", "done: the data has been corrected"),
        "rejected": ("ditolak; lihat alasannya", "declined; see why"),
    }
    if status not in labels:
        return None
    return ("Permohonan perbaikan data{ref} {label}.", "Correction request{ref} {label}.")[lang].format(
        ref=_ref(d), label=labels[status][lang]
    )


def _pdp_escalated(d, lang):
    return (
        "Permohonan perbaikan data{ref} belum ditanggapi dalam 3 x 24 jam dan telah dieskalasi.",
        "Correction request{ref} was not acknowledged within 3 x 24 hours and has been escalated.",
    )[lang].format(ref=_ref(d))


def _pdp_breach(d, lang):
    return (
        "Data pribadi Anda mungkin terdampak insiden keamanan{ref}. Buka JAKI untuk rincian dan langkah Anda.",
        "Your personal data may have been affected by a security incident{ref}. Open JAKI for details.",
    )[lang].format(ref=_ref(d))


_BODIES = {
    "pdp.access.new_agency": _pdp_new_agency,
    "pdp.correction.status_changed": _pdp_correction,
    "pdp.correction.escalated": _pdp_escalated,
    "pdp.breach.notice": _pdp_breach,
    "report.created": _report_created,
    "report.status_changed": _report_status,
    "report.assigned": _report_assigned,
    "report.comment_added": _report_comment,
    "report.supported": _report_supported,
    "report.sla_breached": _report_sla,
    "permit.status_changed": _permit_status,
    "letter.status_changed": _letter_status,
    "bansos.disbursed": _bansos,
    "tax.bill_due": _tax_due,
    "permit.sla_breached": _permit_sla,
    "letter.sla_breached": _letter_sla,
}

TEMPLATES: dict[str, Template] = {
    t.type: t
    for t in (
        Template(
            "report.created",
            ("Laporan baru", "New reports"),
            ("Laporan diterima", "Report received"),
            ("Laporan telah tercatat.", "The report has been recorded."),
        ),
        Template(
            "report.status_changed",
            ("Perubahan status laporan", "Report status changes"),
            ("Status laporan diperbarui", "Report status updated"),
            ("Status laporan Anda telah diperbarui.", "The status of your report has changed."),
        ),
        Template(
            "report.assigned",
            ("Penugasan laporan", "Report assignments"),
            ("Laporan ditugaskan", "Report assigned"),
            ("Laporan telah ditugaskan untuk ditindaklanjuti.", "The report has been assigned for follow-up."),
        ),
        Template(
            "report.comment_added",
            ("Tanggapan laporan", "Report replies"),
            ("Tanggapan baru", "New reply"),
            ("Ada tanggapan baru pada laporan.", "There is a new reply on a report."),
        ),
        Template(
            "report.supported",
            ("Dukungan warga", "Residents' support"),
            ("Laporan Anda didukung warga", "Your report has support"),
            ("Warga lain mendukung laporan Anda.", "Other residents support your report."),
        ),
        Template(
            "report.sla_breached",
            ("Laporan melewati batas waktu", "Overdue reports"),
            ("Batas waktu terlewati", "Deadline passed"),
            ("Sebuah laporan melewati batas waktu tindak lanjut.", "A report is past its follow-up deadline."),
            priority="high",
        ),
        Template(
            "permit.status_changed",
            ("Perubahan status izin", "Permit status changes"),
            ("Status izin diperbarui", "Permit status updated"),
            ("Status permohonan izin Anda telah diperbarui.", "The status of your permit application changed."),
        ),
        Template(
            "letter.status_changed",
            ("Perubahan status surat", "Letter status changes"),
            ("Status surat diperbarui", "Letter status updated"),
            ("Status permohonan surat Anda telah diperbarui.", "The status of your letter request changed."),
        ),
        Template(
            "bansos.disbursed",
            ("Penyaluran bantuan sosial", "Social aid payments"),
            ("Bantuan sosial disalurkan", "Social aid paid"),
            ("Bantuan sosial telah disalurkan ke rekening Anda.", "Social aid has been paid into your account."),
        ),
        Template(
            "tax.bill_due",
            ("Pengingat jatuh tempo pajak", "Tax due reminders"),
            ("Pengingat pajak", "Tax reminder"),
            ("Tagihan pajak Anda akan segera jatuh tempo.", "A tax bill of yours is due soon."),
        ),
        Template(
            "permit.sla_breached",
            ("Izin melewati batas waktu", "Overdue permits"),
            ("Batas waktu izin terlewati", "Permit deadline passed"),
            (
                "Sebuah permohonan izin melewati batas waktu layanan.",
                "A permit application is past its service deadline.",
            ),
            priority="high",
        ),
        Template(
            "letter.sla_breached",
            ("Surat melewati batas waktu", "Overdue letters"),
            ("Batas waktu surat terlewati", "Letter deadline passed"),
            ("Sebuah permohonan surat melewati batas waktu layanan.", "A letter request is past its service deadline."),
            priority="high",
        ),
        # Personal data (UU PDP, jaki.pdp)
        Template(
            "pdp.access.new_agency",
            ("Akses baru ke data saya", "New access to my data"),
            ("Akses data oleh instansi baru", "Data read by a new agency"),
            ("Instansi baru membaca data pribadi Anda.", "A new agency read your personal data."),
        ),
        Template(
            "pdp.correction.status_changed",
            ("Permohonan perbaikan data", "Correction requests"),
            ("Perbaikan data", "Data correction"),
            ("Status permohonan perbaikan data Anda berubah.", "Your correction request changed status."),
        ),
        Template(
            "pdp.correction.escalated",
            ("Perbaikan data terlambat", "Overdue corrections"),
            ("Perbaikan data dieskalasi", "Correction escalated"),
            ("Permohonan perbaikan data dieskalasi.", "A correction request was escalated."),
            priority="high",
        ),
        Template(
            "pdp.breach.notice",
            ("Pemberitahuan keamanan data", "Data security notices"),
            ("Pemberitahuan keamanan data", "Data security notice"),
            ("Data pribadi Anda mungkin terdampak insiden keamanan.", "Your data may be affected by an incident."),
            priority="high",
        ),
    )
}

EMERGENCY = "broadcast.emergency"
EMERGENCY_LABEL = ("Peringatan darurat wilayah", "Emergency alerts for your area")
UNMUTABLE = frozenset({EMERGENCY, "pdp.breach.notice"})  # a breach notice is a legal duty (UU PDP)
ALL_TYPES = (*TEMPLATES, EMERGENCY)

_DATA_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Producers must never put these in a payload; if one does, it does not reach a lock screen or FCM.
_PERSONAL = re.compile(r"^\d{16}$|^(\+?62|0)8\d{7,12}$")
_RESERVED_PREFIXES = ("google", "gcm")
_RESERVED = frozenset({"from", "notification", "message_type", "collapse_key"})


def clean_data(data: Any, *, max_values: int = 20, max_len: int = 100) -> dict[str, str]:
    """The event data as FCM wants it: short string values under safe keys; anything else is dropped."""
    if not isinstance(data, dict):
        return {}
    cleaned: dict[str, str] = {}
    for key, value in data.items():
        if len(cleaned) >= max_values:
            break
        if not isinstance(key, str) or not _DATA_KEY.match(key) or key in _RESERVED:
            continue
        if key.startswith(_RESERVED_PREFIXES):
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, (str, int, float)):
            continue
        text = str(value)
        if len(text) <= max_len and not _PERSONAL.match(text.replace(" ", "").replace("-", "")):
            cleaned[key] = text
    return cleaned


def label(type_: str, language: str = "id") -> str:
    lang = 1 if language == "en" else 0
    if type_ == EMERGENCY:
        return EMERGENCY_LABEL[lang]
    template = TEMPLATES.get(type_)
    return template.label[lang] if template else type_
