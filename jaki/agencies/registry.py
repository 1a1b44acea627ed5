"""The perangkat daerah of the Pemprov DKI Jakarta: names, kinds, public-service domains, Satu Data integration."""

from __future__ import annotations

from datetime import date

from jaki.agencies.models import Agency

# (code, name, short name, kind, domains, integrated)
# Names follow the organisation of Perda 5/2016 as amended and Pergub 57/2022; Jakarta reorganises its offices
# every few years, so check this list against the current Pergub before publishing it. The 15 codes the demo
# seed created first (DBM, DSDA, ..., BPBD) are kept as they are: reports and staff accounts point at them.
# About 40 of the 52 are integrated with Satu Data (DOMAIN.md); the flags below say which (`flask reference load`).
AGENCIES: list[tuple[str, str, str, str, tuple[str, ...], bool]] = [
    # Dinas
    ("DISDIK", "Dinas Pendidikan", "Pendidikan", "dinas", ("education",), True),
    ("DINKES", "Dinas Kesehatan", "Kesehatan", "dinas", ("health",), True),
    ("DINSOS", "Dinas Sosial", "Sosial", "dinas", ("social_aid",), True),
    ("DISNAKERTRANSGI", "Dinas Tenaga Kerja, Transmigrasi dan Energi", "Nakertransgi", "dinas", (), True),
    ("DPPAPP", "Dinas Pemberdayaan, Perlindungan Anak dan Pengendalian Penduduk", "PPAPP", "dinas", (), True),
    ("DKPKP", "Dinas Ketahanan Pangan, Kelautan dan Pertanian", "KPKP", "dinas", (), True),
    ("DLH", "Dinas Lingkungan Hidup", "Lingkungan Hidup", "dinas", (), True),
    ("DUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil", "Dukcapil", "dinas", ("population",), True),
    ("DISHUB", "Dinas Perhubungan", "Perhubungan", "dinas", (), True),
    ("DISKOMINFOTIK", "Dinas Komunikasi, Informatika dan Statistik", "Kominfotik", "dinas", (), True),
    ("DPE", "Dinas Perindustrian, Perdagangan, Koperasi, Usaha Kecil dan Menengah", "PPKUKM", "dinas", (), True),
    ("DPMPTSP", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "DPMPTSP", "dinas", ("permits",), True),
    ("DISPORA", "Dinas Pemuda dan Olahraga", "Dispora", "dinas", (), True),
    ("DISPAREKRAF", "Dinas Pariwisata dan Ekonomi Kreatif", "Parekraf", "dinas", (), True),
    ("DISBUD", "Dinas Kebudayaan", "Kebudayaan", "dinas", (), False),
    ("DISPUSIP", "Dinas Perpustakaan dan Kearsipan", "Pusip", "dinas", (), False),
    ("DBM", "Dinas Bina Marga", "Bina Marga", "dinas", (), True),
    ("DSDA", "Dinas Sumber Daya Air", "SDA", "dinas", (), True),
    ("DCKTRP", "Dinas Cipta Karya, Tata Ruang dan Pertanahan", "Citata", "dinas", ("permits",), True),
    ("DPRKP", "Dinas Perumahan Rakyat dan Kawasan Permukiman", "DPRKP", "dinas", (), True),
    ("DPHK", "Dinas Pertamanan dan Hutan Kota", "Pertamanan", "dinas", (), True),
    ("GULKARMAT", "Dinas Penanggulangan Kebakaran dan Penyelamatan", "Gulkarmat", "dinas", (), True),
    # Badan
    ("BAPPEDA", "Badan Perencanaan Pembangunan Daerah", "Bappeda", "badan", (), True),
    ("BPKD", "Badan Pengelola Keuangan Daerah", "BPKD", "badan", (), True),
    ("BAPENDA", "Badan Pendapatan Daerah", "Bapenda", "badan", ("tax",), True),
    ("BKD", "Badan Kepegawaian Daerah", "BKD", "badan", (), True),
    ("BPSDM", "Badan Pengembangan Sumber Daya Manusia", "BPSDM", "badan", (), True),
    ("BPBUMD", "Badan Pembinaan Badan Usaha Milik Daerah", "BP BUMD", "badan", (), False),
    ("BPBD", "Badan Penanggulangan Bencana Daerah", "BPBD", "badan", (), True),
    ("KESBANGPOL", "Badan Kesatuan Bangsa dan Politik", "Kesbangpol", "badan", (), False),
    ("BPAD", "Badan Pengelola Aset Daerah", "BPAD", "badan", (), True),
    ("BRIDA", "Badan Riset dan Inovasi Daerah", "BRIDA", "badan", (), False),
    # Satpol PP, Inspektorat, Sekretariat
    ("SATPOLPP", "Satuan Polisi Pamong Praja", "Satpol PP", "satpol", (), True),
    ("INSPEKTORAT", "Inspektorat", "Inspektorat", "inspektorat", (), False),
    ("SETDA", "Sekretariat Daerah", "Setda", "sekretariat", (), True),
    ("SETWAN", "Sekretariat Dewan Perwakilan Rakyat Daerah", "Setwan", "sekretariat", (), False),
    # Biro of the Sekretariat Daerah
    ("BIROPEM", "Biro Pemerintahan", "Biro Pemerintahan", "biro", (), True),
    ("BIROHUKUM", "Biro Hukum", "Biro Hukum", "biro", (), False),
    ("BIROKESOS", "Biro Kesejahteraan Sosial", "Biro Kesos", "biro", (), True),
    ("BIROEKKU", "Biro Perekonomian dan Keuangan", "Biro Ekku", "biro", (), True),
    ("BIROPLH", "Biro Pembangunan dan Lingkungan Hidup", "Biro PLH", "biro", (), True),
    ("BIROORB", "Biro Organisasi dan Reformasi Birokrasi", "Biro ORB", "biro", (), False),
    ("BIROUMUM", "Biro Umum dan Administrasi Pimpinan", "Biro Umum", "biro", (), False),
    ("BIROPBJ", "Biro Pengadaan Barang dan Jasa", "Biro PBJ", "biro", (), False),
    ("BIROKSD", "Biro Kerja Sama Daerah", "Biro KSD", "biro", (), False),
    # The administrative cities and regency (not autonomous in DKI: part of the provincial government)
    ("KOTA-JP", "Pemerintah Kota Administrasi Jakarta Pusat", "Jakarta Pusat", "kota", (), True),
    ("KOTA-JU", "Pemerintah Kota Administrasi Jakarta Utara", "Jakarta Utara", "kota", (), True),
    ("KOTA-JB", "Pemerintah Kota Administrasi Jakarta Barat", "Jakarta Barat", "kota", (), True),
    ("KOTA-JS", "Pemerintah Kota Administrasi Jakarta Selatan", "Jakarta Selatan", "kota", (), True),
    ("KOTA-JT", "Pemerintah Kota Administrasi Jakarta Timur", "Jakarta Timur", "kota", (), True),
    ("KAB-KS", "Pemerintah Kabupaten Administrasi Kepulauan Seribu", "Kepulauan Seribu", "kota", (), True),
    ("UPJSC", "Unit Pengelola Jakarta Smart City", "Jakarta Smart City", "dinas", (), True),
]

# Kelurahan and kecamatan offices issue the administrative letters; they are not among the 52. Staff of the
# kelurahan office whose areas cover a kelurahan are its kelurahan unit: they verify reports filed there.
KELURAHAN_UNIT = "KELURAHAN"
WILAYAH: list[tuple[str, str, str, str, tuple[str, ...], bool]] = [
    ("KELURAHAN", "Kantor Kelurahan (seluruh DKI Jakarta)", "Kelurahan", "wilayah", ("letters",), True),
    ("KECAMATAN", "Kantor Kecamatan (seluruh DKI Jakarta)", "Kecamatan", "wilayah", ("letters",), True),
]

# Bodies outside the Pemprov that own some of what citizens report (water mains, power, ports, buses, trains,
# Gelora Bung Karno, national roads): kind "external". A report handed to one is delivered through its configured
# channel (REPORTS_EXTERNAL_CHANNELS, jaki.reports.external) and its answer comes back into the report. Not
# integrated with Satu Data: they are not perangkat daerah.
EXTERNAL: list[tuple[str, str, str, str, tuple[str, ...], bool]] = [
    ("PAMJAYA", "Perumda Air Minum Jaya (PAM Jaya)", "PAM Jaya", "external", (), False),
    (
        "PLN-UIDJAYA",
        "PT PLN (Persero) Unit Induk Distribusi Jakarta Raya",
        "PLN UID Jakarta Raya",
        "external",
        (),
        False,
    ),
    ("PELINDO", "PT Pelabuhan Indonesia (Persero), Tanjung Priok", "Pelindo", "external", (), False),
    ("TRANSJAKARTA", "PT Transportasi Jakarta", "Transjakarta", "external", (), False),
    ("KAI", "PT Kereta Api Indonesia (Persero) Daop 1 Jakarta", "KAI", "external", (), False),
    ("PPKGBK", "Pusat Pengelolaan Komplek Gelora Bung Karno", "PPK GBK", "external", (), False),
    (
        "BBPJN-JKT",
        "Balai Besar Pelaksanaan Jalan Nasional DKI Jakarta-Jawa Barat (Kementerian PU)",
        "BBPJN",
        "external",
        (),
        False,
    ),
]

INTEGRATED_SINCE = date(2024, 1, 2)

# Where citizens pay what an agency bills, named in reminders. Bapenda's e-services portal (check the address
# against Bapenda's current one before publishing); set once, so an admin's later correction in the row stays.
PAY_URLS = {"BAPENDA": "https://pajakonline.jakarta.go.id"}


def upsert_registry(session) -> int:
    """Create or update every registry row (idempotent); returns how many rows were created."""
    created = 0
    for code, name, short, kind, domains, integrated in AGENCIES + WILAYAH + EXTERNAL:
        agency = session.get(Agency, code)
        if agency is None:
            agency = Agency(code=code, name=name, short_name=short)
            session.add(agency)
            created += 1
        agency.kind = kind
        agency.domains = list(domains)
        if agency.pay_url is None and code in PAY_URLS:
            agency.pay_url = PAY_URLS[code]
        if agency.integrated != integrated:
            agency.integrated = integrated
            agency.integrated_since = INTEGRATED_SINCE if integrated else None
    session.flush()
    return created


# Which public-service domain's connector calls which agency, in the order the domains registered. The
# services sit above the agencies room: jaki.services.connectors.register_domain announces each domain here,
# so the agencies' health page can say what an agency serves without importing the services.
SERVED: dict[str, str] = {}


def record_domain(domain: str, agency_code: str) -> None:
    SERVED[domain] = agency_code


def domains_calling(code: str) -> list[str]:
    """The public-service domains whose connector calls the agency `code`."""
    return [domain for domain, agency in SERVED.items() if agency == code]
