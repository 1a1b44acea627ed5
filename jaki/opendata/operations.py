"""Publishing the open-data files (stored as built, served as stored) and exporting them for the portal."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

from jaki.db import utcnow
from jaki.errors import NotFound
from jaki.extensions import db
from jaki.opendata.catalog import catalog
from jaki.opendata.models import OpenDataFile
from jaki.opendata.publication import FILES, META, build, months_of
from jaki.settings import setting

log = logging.getLogger(__name__)


def publish(now=None) -> list[str]:
    """Build every file and store it (replacing the last build, in one transaction); returns their names."""
    files = build(now)
    generated_at = utcnow()
    for file in files:
        row = db.session.get(OpenDataFile, file.name)
        if row is None:
            row = OpenDataFile(name=file.name)
            db.session.add(row)
        row.media_type, row.body, row.etag, row.generated_at = file.media_type, file.body, file.etag, generated_at
    db.session.commit()
    log.info("open data published", extra={"files": len(files)})
    return [f.name for f in files]


def stored(name: str) -> OpenDataFile:
    """A published file; built now when there is none yet or the last build is older than OPEN_DATA_MAX_AGE_SECONDS
    (no worker on the embedded default; in production the daily task keeps it fresh)."""
    if name not in (*FILES, META):
        raise NotFound()
    row = db.session.get(OpenDataFile, name)
    max_age = timedelta(seconds=int(setting("OPEN_DATA_MAX_AGE_SECONDS")))
    if row is None or utcnow() - row.generated_at > max_age:
        publish()
        row = db.session.get(OpenDataFile, name)
    return row


def catalog_document() -> tuple[dict, OpenDataFile]:
    """The DCAT catalog of the stored build, its download URLs naming this server (or OPEN_DATA_BASE_URL)."""
    meta_row = stored(META)
    meta = json.loads(meta_row.body)
    first, last, months = months_of(meta)
    return catalog(first, last, months, datetime.fromisoformat(meta["generated_at"])), meta_row


def export(directory: Path) -> list[Path]:
    """Write the files, and one GeoJSON per month, to `directory` for the open-data portal."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file in build(every_month=True):
        if file.name == META:
            continue
        path = directory / file.name
        path.write_text(file.body, encoding="utf-8", newline="")
        written.append(path)
    return written
