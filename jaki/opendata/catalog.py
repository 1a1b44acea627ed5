"""The DCAT catalog of jaki's open data (JSON-LD), with Satu Data Indonesia's metadata beside DCAT's terms."""

from __future__ import annotations

from datetime import date, datetime

from flask import has_request_context, request

from jaki.api import API_PREFIX
from jaki.settings import setting

NOTE_ID = (
    "Jumlah laporan mencerminkan seberapa banyak warga memakai kanal pelaporan ini, bukan seberapa baik suatu wilayah "
    "dikelola: wilayah dengan lebih banyak laporan belum tentu lebih bermasalah. Angka 1-4 dikosongkan (ditandai "
    "suppressed) untuk melindungi pelapor; kategori sensitif diterbitkan per kecamatan."
)
NOTE_EN = (
    "Report counts reflect how much residents use this reporting channel, not how well an area is run: an area with "
    "more reports is not necessarily worse off. Counts from 1 to 4 are left empty (flagged as suppressed) to protect "
    "reporters; sensitive categories are published per kecamatan."
)
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
MONTHLY = "http://purl.org/cld/freq/monthly"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
PUBLISHER = {
    "@type": "foaf:Organization",
    "foaf:name": "Pemerintah Provinsi DKI Jakarta - Dinas Komunikasi, Informatika dan Statistik",
}
# Satu Data Indonesia (Perpres 39/2019): the data's producer (produsen data) and its custodian (walidata).
SATU_DATA = {
    "produsen_data": "Unit Pengelola Jakarta Smart City (UPJSC)",
    "walidata": "Dinas Komunikasi, Informatika dan Statistik Provinsi DKI Jakarta",
    "kode_wilayah": "31",
    "sistem_kode_wilayah": "Kemendagri (Kepmendagri 300.2.2-2138/2025); kode BPS disertakan (bps_code)",
}


def base_url() -> str:
    """Where the files are downloaded from: OPEN_DATA_BASE_URL (the portal) or this server."""
    configured = setting("OPEN_DATA_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/") + f"{API_PREFIX}/open-data"
    return f"{API_PREFIX}/open-data"


def _distribution(name: str, media_type: str, title: str) -> dict:
    return {
        "@type": "dcat:Distribution",
        "dct:title": title,
        "dcat:downloadURL": f"{base_url()}/{name}",
        "dcat:mediaType": media_type,
        "dct:format": name.rsplit(".", 1)[1].upper(),
        "dct:license": LICENCE,
    }


def catalog(first: date, last: date, months: list[str], generated_at: datetime) -> dict:
    """Every dataset jaki publishes, with licence, publisher, update frequency, period and area codes."""
    reports = {
        "@type": "dcat:Dataset",
        "dct:identifier": "laporan-warga-per-kelurahan-bulanan",
        "dct:title": "Laporan warga per kelurahan, kategori dan bulan",
        "dct:description": (
            "Laporan warga (JAKI) per kelurahan x kategori x bulan pelaporan (WIB): jumlah per status publik "
            "(menunggu, koordinasi, disposisi, proses, selesai, ditolak, digabung), median jam sampai selesai dan "
            "porsi yang selesai dalam SLA kategorinya. Status per waktu pembuatan berkas. " + NOTE_ID
        ),
        "dct:publisher": PUBLISHER,
        "dct:license": LICENCE,
        "dct:accrualPeriodicity": MONTHLY,
        "dct:modified": generated_at.isoformat(),
        "dct:temporal": {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": first.isoformat(),
            "dcat:endDate": last.isoformat(),
        },
        "dct:spatial": {"@type": "dct:Location", "dct:identifier": "31", "foaf:name": "DKI Jakarta"},
        "dcat:keyword": ["laporan warga", "pengaduan", "JAKI", "kelurahan", "SLA"],
        "dct:language": ["id"],
        "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": PUBLISHER["foaf:name"]},
        "dcat:distribution": [
            _distribution("reports.csv", "text/csv", "CSV (RFC 4180), satu baris per kelurahan x kategori x bulan"),
            _distribution("reports.json", "application/json", "JSON: baris yang sama dengan metadata"),
            _distribution(
                "reports.geojson",
                "application/geo+json",
                f"GeoJSON: bulan terakhir ({months[-1] if months else ''}) digabung dengan 267 poligon kelurahan",
            ),
        ],
        "satu_data": {
            **SATU_DATA,
            "tingkat_penyajian": "kelurahan; kecamatan untuk kategori sensitif",
            "satuan": "laporan",
            "frekuensi_penerbitan": "bulanan",
            "konsep": "Laporan warga yang masuk lewat kanal JAKI, dihitung pada bulan pelaporannya (WIB)",
            "kontrol_disklosur": "Jumlah 1-4 dikosongkan; satu status tersembunyi disertai status kedua; "
            "tanpa total gabungan antar-baris",
        },
    }
    boundaries = {
        "@type": "dcat:Dataset",
        "dct:identifier": "batas-wilayah-kelurahan",
        "dct:title": "Batas wilayah kota, kecamatan dan kelurahan DKI Jakarta",
        "dct:description": "Poligon sederhana (sekitar 11 m) 6 kota/kabupaten, 44 kecamatan dan 267 kelurahan dengan "
        "kode Kemendagri; geometri dari cahyadsn/wilayah_boundaries (MIT).",
        "dct:publisher": PUBLISHER,
        "dct:license": "https://opensource.org/licenses/MIT",
        "dct:accrualPeriodicity": "http://purl.org/cld/freq/irregular",
        "dct:spatial": {"@type": "dct:Location", "dct:identifier": "31", "foaf:name": "DKI Jakarta"},
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dct:title": f"GeoJSON tingkat {level}",
                "dcat:downloadURL": f"{base_url().rsplit('/open-data', 1)[0]}/areas.geojson?level={level}",
                "dcat:mediaType": "application/geo+json",
                "dct:format": "GEOJSON",
            }
            for level in ("kota", "kecamatan", "kelurahan")
        ],
        "satu_data": {**SATU_DATA, "tingkat_penyajian": "kota, kecamatan, kelurahan"},
    }
    return {
        "@context": CONTEXT,
        "@type": "dcat:Catalog",
        "dct:title": "Data terbuka jaki (JAKI) - Pemprov DKI Jakarta",
        "dct:description": "Satu Data, Satu Kebijakan: data yang dihasilkan warga dan petugas lewat jaki. " + NOTE_ID,
        "dct:publisher": PUBLISHER,
        "dct:license": LICENCE,
        "dct:issued": generated_at.isoformat(),
        "dct:language": ["id"],
        "note_en": NOTE_EN,
        "dcat:dataset": [reports, boundaries],
    }
