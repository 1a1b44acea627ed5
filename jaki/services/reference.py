"""Reference data of the public services: the agency registry, aid programmes, permit and letter types."""

from __future__ import annotations

from jaki.agencies.registry import AGENCIES, WILAYAH, upsert_registry
from jaki.extensions import db
from jaki.services.permits.types import TYPES, upsert_types
from jaki.services.social_aid.connectors import PROGRAMMES
from jaki.services.social_aid.models import AidProgramme


def load_reference() -> dict[str, int]:
    """Create or update the registry (all 52 offices and the kelurahan/kecamatan offices), aid programmes and
    permit/letter types; idempotent. Returns how many rows of each there are."""
    upsert_registry(db.session)
    for code, (name, agency, umbrella, text) in PROGRAMMES.items():
        row = db.session.get(AidProgramme, code) or AidProgramme(code=code)
        row.name, row.agency_code, row.umbrella, row.description = name, agency, umbrella, text
        db.session.add(row)
    upsert_types(db.session)
    db.session.flush()
    return {
        "offices": len(AGENCIES),
        "integrated": sum(1 for *_rest, integrated in AGENCIES if integrated),
        "wilayah": len(WILAYAH),
        "programmes": len(PROGRAMMES),
        "application_types": len(TYPES),
    }
