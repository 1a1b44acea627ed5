"""Report categories: what a citizen can report, the agency each goes to and its SLA (real reference data)."""

from __future__ import annotations

from jaki.reports import categories

# code, Indonesian name, English name, agency, SLA hours, duplicate radius (m), order, validation required,
# evidence radius (m). Why each duplicate radius (FixMyStreet suggests reports within 250 m by default; jaki
# offers duplicates before filing, so a wide radius would hide a second, different problem behind the first):
# - jalan_rusak 50: potholes recur every few tens of metres of one road; 250 m would merge different holes.
# - banjir 150: a flood covers a street or a block; its reports scatter over its extent, 150 m catches them.
# - sampah 50: a dumping spot is a point; the next one down the street is another pile for another crew.
# - pohon_tumbang 50: one tree, one point; people report it from where they stand.
# - lampu_jalan 30: poles stand 30-40 m apart: 30 m is the pole itself, not its neighbours.
# - parkir_liar 50: one stretch of kerb; the next block is another enforcement.
# - saluran_tersumbat 50: one inlet or stretch of drain.
# - fasilitas_umum 30: one bench, toilet or shelter, among others close by.
# - trotoar_rusak 50: like roads.
# - pkl_liar 50: one group of stalls.
# Validation: every category is validated before Selesai (Jakarta's CRM since 2021; the Kalisari parking case of
# April 2026 was a resolution nobody checked). Evidence radius: where the proof must be taken (plus the fix's
# accuracy): 100 m by default; 200 m for floods (the water is seen from where one can stand), 50 m for a pole.
CATEGORIES = [
    ("jalan_rusak", "Jalan rusak", "Damaged road", "DBM", 72, 50, 10, True, 100),
    ("banjir", "Banjir/genangan", "Flooding", "DSDA", 6, 150, 20, True, 200),
    ("sampah", "Sampah", "Rubbish", "DLH", 24, 50, 30, True, 100),
    ("pohon_tumbang", "Pohon tumbang", "Fallen tree", "DPHK", 6, 50, 40, True, 100),
    ("lampu_jalan", "Lampu jalan mati", "Street light out", "DBM", 48, 30, 50, True, 50),
    ("parkir_liar", "Parkir liar", "Illegal parking", "DISHUB", 6, 50, 60, True, 100),
    ("saluran_tersumbat", "Saluran air tersumbat", "Blocked drain", "DSDA", 48, 50, 70, True, 100),
    ("fasilitas_umum", "Fasilitas umum rusak", "Damaged public facility", "DCKTRP", 72, 30, 80, True, 100),
    ("trotoar_rusak", "Trotoar rusak", "Damaged pavement", "DBM", 72, 50, 90, True, 100),
    ("pkl_liar", "Pedagang kaki lima liar", "Unlicensed street vendors", "SATPOLPP", 24, 50, 100, True, 100),
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
            "validation_required": validation,
            "evidence_radius_m": evidence_radius,
        }
        for code, name, name_en, agency, sla, radius, order, validation, evidence_radius in CATEGORIES
    ]


def load_categories() -> dict[str, int]:
    """Add the categories not there yet (admins' later edits are kept); the agencies must exist already."""
    added = categories.upsert_categories(category_rows())
    return {"categories": len(CATEGORIES), "added": added}
