"""Reference data: permit and letter types with their SLA (working days) and document checklists."""

from __future__ import annotations

from jaki.services.permits.models import ApplicationType


def _doc(kind: str, name: str, required: bool = True) -> dict:
    return {"kind": kind, "name": name, "required": required}


KTP = _doc("ktp", "KTP pemohon")
KK = _doc("kk", "Kartu Keluarga")
PENGANTAR = _doc("pengantar_rtrw", "Surat pengantar RT/RW")
BUKTI_TANAH = _doc("bukti_tanah", "Sertifikat atau bukti kepemilikan tanah")
PETA = _doc("peta_lokasi", "Peta lokasi / titik koordinat")

# (code, kind, name, agency, SLA working days, documents)
# SLA days are demo values in the spirit of DPMPTSP's published service standards (PBG: 28 working days
# under PP 16/2021 for non-simple buildings); they are rows, so they can be corrected without a release.
TYPES: list[tuple[str, str, str, str, int, list[dict]]] = [
    (
        "PBG",
        "permit",
        "Persetujuan Bangunan Gedung",
        "DPMPTSP",
        28,
        [
            KTP,
            BUKTI_TANAH,
            _doc("krk", "Keterangan Rencana Kota (KRK)"),
            _doc("gambar_arsitektur", "Gambar arsitektur"),
            _doc("gambar_struktur", "Gambar struktur"),
            _doc("gambar_utilitas", "Gambar utilitas (MEP)", required=False),
            _doc("pbb", "Bukti lunas PBB tahun berjalan"),
        ],
    ),
    (
        "SLF",
        "permit",
        "Sertifikat Laik Fungsi",
        "DPMPTSP",
        10,
        [
            KTP,
            _doc("pbg", "Dokumen PBG / IMB"),
            _doc("laporan_pemeriksaan", "Laporan pemeriksaan kelaikan fungsi"),
            _doc("surat_pernyataan", "Surat pernyataan kelaikan fungsi bangunan"),
            _doc("gambar_terbangun", "Gambar terbangun (as built drawings)", required=False),
        ],
    ),
    (
        "SP3L",
        "permit",
        "Surat Persetujuan Prinsip Pembebasan Lokasi/Lahan",
        "DPMPTSP",
        14,
        [
            KTP,
            _doc("proposal", "Proposal rencana pemanfaatan lahan"),
            PETA,
            _doc("akta_perusahaan", "Akta pendirian badan usaha", required=False),
        ],
    ),
    ("KRK", "permit", "Keterangan Rencana Kota", "DPMPTSP", 5, [KTP, BUKTI_TANAH, PETA]),
    # Letters of the kelurahan (most) and the kecamatan (inheritance), online instead of at the counter.
    ("SKD", "letter", "Surat Keterangan Domisili", "KELURAHAN", 1, [KTP, KK, PENGANTAR]),
    (
        "SKTM",
        "letter",
        "Surat Keterangan Tidak Mampu",
        "KELURAHAN",
        2,
        [KTP, KK, PENGANTAR, _doc("foto_rumah", "Foto rumah tampak depan", required=False)],
    ),
    (
        "SKU",
        "letter",
        "Surat Keterangan Usaha",
        "KELURAHAN",
        2,
        [KTP, KK, PENGANTAR, _doc("foto_usaha", "Foto tempat usaha")],
    ),
    ("SKBM", "letter", "Surat Keterangan Belum Menikah", "KELURAHAN", 1, [KTP, KK, PENGANTAR]),
    (
        "SPN",
        "letter",
        "Surat Pengantar Nikah",
        "KELURAHAN",
        2,
        [KTP, KK, PENGANTAR, _doc("akta_kelahiran", "Akta kelahiran")],
    ),
    ("SPSKCK", "letter", "Surat Pengantar SKCK", "KELURAHAN", 1, [KTP, KK, PENGANTAR]),
    (
        "SKAW",
        "letter",
        "Surat Keterangan Ahli Waris",
        "KECAMATAN",
        5,
        [
            KTP,
            KK,
            PENGANTAR,
            _doc("akta_kematian", "Akta kematian pewaris"),
            _doc("surat_pernyataan_waris", "Surat pernyataan ahli waris"),
        ],
    ),
]


def upsert_types(session) -> None:
    for code, kind, name, agency, sla_days, documents in TYPES:
        row = session.get(ApplicationType, code)
        if row is None:
            row = ApplicationType(code=code)
            session.add(row)
        row.kind, row.name, row.agency_code, row.sla_days, row.documents = kind, name, agency, sla_days, documents
    session.flush()
