"""Report categories: what a citizen can report, the agency each goes to and its SLA (real reference data)."""

from __future__ import annotations

from jaki.reports import categories

# code, Indonesian name, English name, agency, SLA hours, duplicate radius (m), order
CATEGORIES = [
    ("jalan_rusak", "Jalan rusak", "Damaged road", "DBM", 72, 50, 10),
    ("banjir", "Banjir/genangan", "Flooding", "DSDA", 6, 150, 20),
    ("sampah", "Sampah", "Rubbish", "DLH", 24, 50, 30),
    ("pohon_tumbang", "Pohon tumbang", "Fallen tree", "DPHK", 6, 50, 40),
    ("lampu_jalan", "Lampu jalan mati", "Street light out", "DBM", 48, 30, 50),
    ("parkir_liar", "Parkir liar", "Illegal parking", "DISHUB", 6, 50, 60),
    ("saluran_tersumbat", "Saluran air tersumbat", "Blocked drain", "DSDA", 48, 50, 70),
    ("fasilitas_umum", "Fasilitas umum rusak", "Damaged public facility", "DCKTRP", 72, 30, 80),
    ("trotoar_rusak", "Trotoar rusak", "Damaged pavement", "DBM", 72, 50, 90),
    ("pkl_liar", "Pedagang kaki lima liar", "Unlicensed street vendors", "SATPOLPP", 24, 50, 100),
]


def category_rows() -> list[dict]:
    return [
        {
            "code": code,
            "name": name,
            "name_en": name_en,
            "agency_code": agency,
            "sla_hours": sla,
            "duplicate_radius_m": radius,
            "sort_order": order,
        }
        for code, name, name_en, agency, sla, radius, order in CATEGORIES
    ]


def load_categories() -> dict[str, int]:
    """Add the categories not there yet (admins' later edits are kept); the agencies must exist already."""
    added = categories.upsert_categories(category_rows())
    return {"categories": len(CATEGORIES), "added": added}
