"""NIK (Nomor Induk Kependudukan): parse, validate with a named reason, derive birth date, sex and region.

Layout: PP KK CC DDMMYY SSSS
  PP KK CC  Kemendagri province / kota-kabupaten / kecamatan of FIRST registration (not where one lives now)
  DDMMYY    birth date; women have 40 added to the day; the century is the most recent one not in the future
  SSSS      serial, 0001 upwards
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

# Kemendagri province codes (2025 list, 38 provinces). Codes of provinces since split stay valid on old NIKs.
PROVINCES: dict[str, str] = {
    "11": "Aceh",
    "12": "Sumatera Utara",
    "13": "Sumatera Barat",
    "14": "Riau",
    "15": "Jambi",
    "16": "Sumatera Selatan",
    "17": "Bengkulu",
    "18": "Lampung",
    "19": "Kepulauan Bangka Belitung",
    "21": "Kepulauan Riau",
    "31": "DKI Jakarta",
    "32": "Jawa Barat",
    "33": "Jawa Tengah",
    "34": "DI Yogyakarta",
    "35": "Jawa Timur",
    "36": "Banten",
    "51": "Bali",
    "52": "Nusa Tenggara Barat",
    "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat",
    "62": "Kalimantan Tengah",
    "63": "Kalimantan Selatan",
    "64": "Kalimantan Timur",
    "65": "Kalimantan Utara",
    "71": "Sulawesi Utara",
    "72": "Sulawesi Tengah",
    "73": "Sulawesi Selatan",
    "74": "Sulawesi Tenggara",
    "75": "Gorontalo",
    "76": "Sulawesi Barat",
    "81": "Maluku",
    "82": "Maluku Utara",
    "91": "Papua",
    "92": "Papua Barat",
    "93": "Papua Selatan",
    "94": "Papua Tengah",
    "95": "Papua Pegunungan",
    "96": "Papua Barat Daya",
}
JAKARTA = "31"
JAKARTA_KOTA: dict[str, str] = {
    "3101": "Kepulauan Seribu",
    "3171": "Jakarta Pusat",
    "3172": "Jakarta Utara",
    "3173": "Jakarta Barat",
    "3174": "Jakarta Selatan",
    "3175": "Jakarta Timur",
}


class InvalidNIK(ValueError):
    """A NIK that cannot be real. `code` is stable (an i18n message code); `field_message` is Indonesian."""

    def __init__(self, code: str, detail: str):
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}")


@dataclass(frozen=True)
class NIK:
    value: str
    province_code: str
    kota_code: str  # 4 digits, e.g. 3174
    kecamatan_code: str  # 6 digits, e.g. 317405
    birth_date: date
    sex: str  # "M" or "F"
    serial: str

    @property
    def province(self) -> str:
        return PROVINCES[self.province_code]

    @property
    def kecamatan_dotted(self) -> str:
        """31.74.05: the form used by the area tables."""
        c = self.kecamatan_code
        return f"{c[:2]}.{c[2:4]}.{c[4:6]}"

    @property
    def masked(self) -> str:
        return mask(self.value)

    def __repr__(self) -> str:  # never print a full NIK by accident
        return f"NIK({self.masked})"

    __str__ = __repr__


# What people type between the digit groups: 3174 0541 0790 0003, 3174.0541.0790.0003, 3174-0541-0790-0003.
_SEPARATORS = frozenset(" .-\u2010\u2011\u2013\u00a0")


def normalize(raw: str) -> str:
    """The NIK as typed, without the spaces, dots and dashes people put between digit groups (nothing else).

    The one place a NIK is normalised: every NIK that enters jaki (login, registration, officer lookups, cek
    bansos, Open311 contact, the per-NIK rate limit) passes here, then through parse(), before it is used,
    looked up or counted. Whatever else is left (letters, other digits) is for parse() to refuse.
    """
    if not isinstance(raw, str):
        return ""
    return "".join(ch for ch in raw if ch not in _SEPARATORS and not ch.isspace())


def mask(nik: str) -> str:
    """317401******0003: region and serial stay visible, the birth date (and so sex) does not."""
    if len(nik) != 16:
        return "*" * len(nik)
    return nik[:6] + "*" * 6 + nik[12:]


def _birth_date(day: int, month: int, yy: int, today: date) -> date:
    """The most recent date with these digits that is not in the future (the NIK omits the century)."""
    century = (today.year // 100) * 100
    real_dates = []
    for year in (century + yy, century - 100 + yy):
        try:
            real_dates.append(date(year, month, day))
        except ValueError:
            continue  # 29 February exists in 2000 but not in 1900
    if not real_dates:
        raise InvalidNIK("nik_birth_date_invalid", "day/month/year is not a calendar date")
    past = [d for d in real_dates if d <= today]
    if not past:
        raise InvalidNIK("nik_birth_date_future", "birth date lies in the future")
    return past[0]


def parse(
    raw: str,
    *,
    today: date | None = None,
    birth_date: date | None = None,
    kecamatan_exists: Callable[[str], bool | None] | None = None,
) -> NIK:
    """Parse and validate a NIK.

    `birth_date`, when the person states it, must agree with the NIK's digits (it also settles the century,
    and a stated date in the future is refused). `kecamatan_exists(dotted_code)` returns None while areas
    are not loaded, so only the kota is checked then.
    """
    if not isinstance(raw, str):
        raise InvalidNIK("nik_format", "not a string")
    value = normalize(raw)
    if len(value) != 16 or not value.isascii() or not value.isdigit():
        raise InvalidNIK("nik_format", "a NIK is 16 digits")
    province = value[:2]
    if province not in PROVINCES:
        raise InvalidNIK("nik_province_unknown", "unknown province code")
    if province == JAKARTA:
        if value[:4] not in JAKARTA_KOTA:
            raise InvalidNIK("nik_region_unknown", "unknown Jakarta kota/kabupaten code")
        dotted = f"{value[:2]}.{value[2:4]}.{value[4:6]}"
        if kecamatan_exists is not None and kecamatan_exists(dotted) is False:
            raise InvalidNIK("nik_region_unknown", "unknown Jakarta kecamatan code")
    elif value[2:4] == "00" or value[4:6] == "00":
        raise InvalidNIK("nik_region_unknown", "kota/kabupaten and kecamatan codes start at 01")
    day, month, yy = int(value[6:8]), int(value[8:10]), int(value[10:12])
    sex = "M"
    if day > 40:
        day -= 40
        sex = "F"
    if not (1 <= day <= 31 and 1 <= month <= 12):
        raise InvalidNIK("nik_birth_date_invalid", "day or month out of range")
    today = today or date.today()
    if birth_date is None:
        born = _birth_date(day, month, yy, today)
    else:
        _birth_date(day, month, yy, date.max)  # the digits themselves must be a calendar date
        if birth_date > today:
            raise InvalidNIK("nik_birth_date_future", "birth date lies in the future")
        if (birth_date.day, birth_date.month, birth_date.year % 100) != (day, month, yy):
            raise InvalidNIK("nik_birth_date_mismatch", "stated birth date differs from the NIK")
        born = birth_date
    serial = value[12:]
    if serial == "0000":
        raise InvalidNIK("nik_serial_zero", "serial 0000 is never issued")
    return NIK(
        value=value,
        province_code=province,
        kota_code=value[:4],
        kecamatan_code=value[:6],
        birth_date=born,
        sex=sex,
        serial=serial,
    )


def build(kecamatan_code: str, birth_date: date, sex: str, serial: int) -> str:
    """Compose a NIK (for demo data and tests)."""
    day = birth_date.day + (40 if sex == "F" else 0)
    return f"{kecamatan_code}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
