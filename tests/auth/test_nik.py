"""The NIK parser: a table of valid and invalid NIKs with their reasons, and properties of the parser."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaki.auth import nik

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("value", "born", "sex", "region"),
    [
        ("3174054107900003", date(1990, 7, 1), "F", "31.74.05"),  # woman: day 41 = 1st
        ("3171010101800103", date(1980, 1, 1), "M", "31.71.01"),
        ("3101011512250001", date(2025, 12, 15), "M", "31.01.01"),  # Kepulauan Seribu, born last year
        ("3175077112260001", date(1926, 12, 31), "F", "31.75.07"),  # 31-12-26 would be future: a century back
        ("3201012902000001", date(2000, 2, 29), "M", "32.01.01"),  # leap day in 2000
        ("3273016908990002", date(1999, 8, 29), "F", "32.73.01"),  # Bandung, outside Jakarta
        ("9601010101010001", date(2001, 1, 1), "M", "96.01.01"),  # Papua Barat Daya, newest province
        ("9101010101010001", date(2001, 1, 1), "M", "91.01.01"),  # Papua: pre-split NIKs stay valid
        (" 3174 0541 0790 0003 ", date(1990, 7, 1), "F", "31.74.05"),  # spaces as people type them
    ],
)
def test_valid_niks(value, born, sex, region):
    parsed = nik.parse(value, today=TODAY)
    assert parsed.birth_date == born
    assert parsed.sex == sex
    assert parsed.kecamatan_dotted == region


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("317405410790000", "nik_format"),  # 15 digits
        ("31740541079000031", "nik_format"),  # 17 digits
        ("31740541079O0003", "nik_format"),  # letter O
        ("３１７４０５４１０７９０００３", "nik_format"),  # full-width digits are not ASCII
        ("", "nik_format"),
        ("9974050101900001", "nik_province_unknown"),
        ("0074050101900001", "nik_province_unknown"),
        ("3176010101900001", "nik_region_unknown"),  # no kota 31.76
        ("3200010101900001", "nik_region_unknown"),  # kabupaten 00
        ("3201000101900001", "nik_region_unknown"),  # kecamatan 00
        ("3174053102900001", "nik_birth_date_invalid"),  # 31 February
        ("3174057102900001", "nik_birth_date_invalid"),  # 31 February, woman (71 = 31 + 40)
        ("3174050013900001", "nik_birth_date_invalid"),  # day 00
        ("3174050113900001", "nik_birth_date_invalid"),  # month 13
        ("3174053201900001", "nik_birth_date_invalid"),  # day 32
        ("3174057201900001", "nik_birth_date_invalid"),  # day 72 (woman, 32nd)
        ("3174052902010001", "nik_birth_date_invalid"),  # 29 Feb 2001/1901: never a leap year
        ("3174050101900000", "nik_serial_zero"),
    ],
)
def test_invalid_niks_name_their_reason(value, reason):
    with pytest.raises(nik.InvalidNIK) as caught:
        nik.parse(value, today=TODAY)
    assert caught.value.code == reason


def test_stated_birth_date_must_agree_and_not_be_future():
    assert nik.parse("3174054107900003", birth_date=date(1990, 7, 1), today=TODAY).birth_date == date(1990, 7, 1)
    with pytest.raises(nik.InvalidNIK) as caught:
        nik.parse("3174054107900003", birth_date=date(1990, 7, 2), today=TODAY)
    assert caught.value.code == "nik_birth_date_mismatch"
    with pytest.raises(nik.InvalidNIK) as caught:
        nik.parse("3174050112260001", birth_date=date(2026, 12, 1), today=TODAY)
    assert caught.value.code == "nik_birth_date_future"


def test_stated_birth_date_settles_the_century():
    parsed = nik.parse("3174050101200001", birth_date=date(1920, 1, 1), today=TODAY)
    assert parsed.birth_date == date(1920, 1, 1)


def test_kecamatan_checked_against_loaded_areas():
    known = {"31.74.05"}
    assert nik.parse("3174054107900003", today=TODAY, kecamatan_exists=lambda c: c in known)
    with pytest.raises(nik.InvalidNIK) as caught:
        nik.parse("3174994107900003", today=TODAY, kecamatan_exists=lambda c: c in known)
    assert caught.value.code == "nik_region_unknown"
    # Areas not loaded yet: only the kota is checked.
    assert nik.parse("3174994107900003", today=TODAY, kecamatan_exists=lambda c: None)


def test_masking_hides_birth_date_and_never_prints_full_nik():
    parsed = nik.parse("3174054107900003", today=TODAY)
    assert parsed.masked == "317405******0003"
    assert "3174054107900003" not in repr(parsed)
    assert "3174054107900003" not in str(parsed)
    assert nik.mask("123") == "***"


@given(
    province=st.sampled_from(sorted(p for p in nik.PROVINCES if p != "31")),
    kab=st.integers(1, 99),
    kec=st.integers(1, 99),
    born=st.dates(min_value=date(1927, 1, 1), max_value=TODAY),
    sex=st.sampled_from("MF"),
    serial=st.integers(1, 9999),
)
def test_build_then_parse_round_trips(province, kab, kec, born, sex, serial):
    value = nik.build(f"{province}{kab:02d}{kec:02d}", born, sex, serial)
    parsed = nik.parse(value, today=TODAY)
    assert (parsed.birth_date, parsed.sex, int(parsed.serial)) == (born, sex, serial)
    assert parsed.masked[:6] == value[:6] and parsed.masked[-4:] == value[-4:]


@given(st.text(max_size=24))
def test_parser_only_ever_raises_invalid_nik(text):
    try:
        parsed = nik.parse(text, today=TODAY)
    except nik.InvalidNIK as exc:
        assert exc.code.startswith("nik_")
    else:
        assert len(parsed.value) == 16 and parsed.birth_date <= TODAY


@given(st.from_regex(r"\A[0-9]{16}\Z"))
def test_any_sixteen_digits_parse_or_give_a_named_reason(value):
    try:
        parsed = nik.parse(value, today=TODAY)
    except nik.InvalidNIK as exc:
        assert exc.code in {"nik_province_unknown", "nik_region_unknown", "nik_birth_date_invalid", "nik_serial_zero"}
    else:
        assert parsed.province_code in nik.PROVINCES
        assert parsed.serial != "0000"
