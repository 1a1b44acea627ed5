"""The open-data publication: reports per kelurahan x category x month (sensitive categories per kecamatan),
counts by public status, median resolution hours and share within SLA, under disclosure control; its four files.

Months are whole Jakarta months before the current one (the current one is still filling), OPEN_DATA_MONTHS of
them. Counts come from report_stats (exact); medians from jaki.stats.rollup's computation over the same months.
Reports stored with no kelurahan are left out (they have no area to publish them under).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from jaki.db import utcnow
from jaki.extensions import db
from jaki.geo.models import Area
from jaki.geo.queries import map_layer
from jaki.opendata import disclosure
from jaki.opendata.catalog import NOTE_EN, NOTE_ID, catalog
from jaki.reports import workflow as wf
from jaki.reports.models import Category
from jaki.settings import setting
from jaki.stats import rollup
from jaki.stats.aggregates import KECAMATAN, KELURAHAN
from jaki.stats.models import ReportStat
from jaki.stats.query import KEY_SEPARATOR, Question, add_months, jakarta_month, month_key

# Public status codes (JAKI's labels) in workflow order: a new status with a new label becomes a new column.
STATUS_COLUMNS = tuple(dict.fromkeys(wf.PUBLIC_LABELS[s] for s in wf.STATUSES))
RESOLVED_COLUMN = wf.PUBLIC_LABELS[wf.RESOLVED]
COLUMNS = (
    "month",
    "area_level",
    "kota_code",
    "kota_name",
    "kecamatan_code",
    "kecamatan_name",
    "kelurahan_code",
    "kelurahan_name",
    "bps_code",
    "category_code",
    "category_name",
    "reports",
    *STATUS_COLUMNS,
    "median_hours_to_resolve",
    "within_sla_share",
    "suppressed",
    "suppressed_fields",
)
COUNT_FIELDS = ("reports", *STATUS_COLUMNS)
CSV, JSON, GEOJSON = "text/csv; charset=utf-8", "application/json", "application/geo+json"
FILES = ("reports.csv", "reports.json", "reports.geojson", "catalog.json")
META = "meta.json"


@dataclass
class File:
    name: str
    media_type: str
    body: str

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.body.encode()).hexdigest()[:32]


def published_months(now: datetime | None = None) -> tuple[date, date]:
    """(first, last) whole months published: the OPEN_DATA_MONTHS before the current Jakarta month."""
    last = add_months(jakarta_month(now), -1)
    return add_months(last, 1 - int(setting("OPEN_DATA_MONTHS"))), last


def _cells(first: date, last: date, sensitive: set[str]) -> dict[tuple, dict]:
    """(month, area code, category) -> counts by public status and SLA record: report_stats' kelurahan level, and
    its kecamatan level for the sensitive categories."""
    s = ReportStat
    cells: dict[tuple, dict] = {}
    for level, published in ((KELURAHAN, lambda c: c not in sensitive), (KECAMATAN, lambda c: c in sensitive)):
        if level == KECAMATAN and not sensitive:
            continue
        query = (
            select(s.month, s.area_code, s.category_code, s.status, func.sum(s.count), func.sum(s.sla_met))
            .where(s.level == level, s.month >= first, s.month <= last, s.area_code != "")
            .group_by(s.month, s.area_code, s.category_code, s.status)
        )
        for month, area, category, status, count, met in db.session.execute(query):
            if not count or not published(category):
                continue
            cell = cells.setdefault(
                (month_key(month), area, category), {**dict.fromkeys(COUNT_FIELDS, 0), "resolved": 0, "within": 0}
            )
            label = wf.PUBLIC_LABELS.get(status, status)
            cell["reports"] += int(count)
            cell[label] = cell.get(label, 0) + int(count)
            if status in wf.RESOLVED_STATUSES:
                cell["resolved"] += int(count)
                cell["within"] += int(met)
    return cells


def _medians(first: date, last: date, sensitive: set[str]) -> dict[tuple, float | None]:
    out = {}
    for level in ("kelurahan", "kecamatan"):
        if level == "kecamatan" and not sensitive:
            continue
        computed = rollup.compute(Question(group_by=("month", level, "category"), since=first, until=last))
        for key, figures in computed.items():
            if key == rollup.TOTAL:
                continue
            month, area, category = key.split(KEY_SEPARATOR)
            if area and (category in sensitive) == (level == "kecamatan"):
                out[(month, area, category)] = figures["median_hours_to_resolve"]
    return out


def rows(now: datetime | None = None) -> tuple[list[dict], date, date]:
    """The published rows, suppression applied, in (month, area, category) order."""
    first, last = published_months(now)
    categories = {c.code: c for c in db.session.scalars(select(Category))}
    sensitive = {code for code, c in categories.items() if c.sensitive}
    areas = {a.code: a for a in db.session.execute(select(Area.code, Area.name, Area.level, Area.bps_code)).all()}
    cells = _cells(first, last, sensitive)
    medians = _medians(first, last, sensitive)
    out = []
    for (month, area_code, category), counts in sorted(cells.items()):
        level = "kecamatan" if category in sensitive else "kelurahan"
        kecamatan = area_code if level == "kecamatan" else area_code.rsplit(".", 1)[0]
        kota = kecamatan.rsplit(".", 1)[0]
        hidden = disclosure.suppressed_counts(counts, "reports", STATUS_COLUMNS)
        resolved_hidden = RESOLVED_COLUMN in hidden
        median = medians.get((month, area_code, category))
        share = round(counts["within"] / counts["resolved"], 4) if counts["resolved"] else None

        def name(code):
            area = areas.get(code)
            return area.name if area else None

        row = {
            "month": month,
            "area_level": level,
            "kota_code": kota,
            "kota_name": name(kota),
            "kecamatan_code": kecamatan,
            "kecamatan_name": name(kecamatan),
            "kelurahan_code": area_code if level == "kelurahan" else None,
            "kelurahan_name": name(area_code) if level == "kelurahan" else None,
            "bps_code": areas[area_code].bps_code if area_code in areas else None,
            "category_code": category,
            "category_name": categories[category].name if category in categories else category,
            **{f: (None if f in hidden else counts[f]) for f in COUNT_FIELDS},
            "median_hours_to_resolve": median
            if disclosure.median_publishable(counts["resolved"], resolved_hidden)
            else None,
            "within_sla_share": share
            if disclosure.share_publishable(counts["resolved"], counts["within"], resolved_hidden)
            else None,
            "suppressed": bool(hidden),
            "suppressed_fields": [f for f in COUNT_FIELDS if f in hidden],
        }
        out.append(row)
    return out, first, last


def _csv(published: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerow(COLUMNS)
    for row in published:
        values = []
        for column in COLUMNS:
            value = row[column]
            if column == "suppressed_fields":
                value = ";".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            values.append("" if value is None else value)
        writer.writerow(values)
    return buffer.getvalue()


def _geojson(published: list[dict], month: str, generated_at: datetime) -> str:
    """The month's kelurahan rows joined to the 267 kelurahan outlines: one feature per kelurahan, its categories'
    figures as flat properties `<category>__<field>` (0 where none were filed). Sensitive categories, published per
    kecamatan only, are not in it."""
    layer = json.loads(map_layer("kelurahan"))
    by_kelurahan: dict[str, dict] = {}
    for row in published:
        if row["month"] == month and row["area_level"] == "kelurahan":
            by_kelurahan.setdefault(row["kelurahan_code"], {})[row["category_code"]] = row
    categories = sorted({r["category_code"] for r in published if r["area_level"] == "kelurahan"})
    fields = (*COUNT_FIELDS, "median_hours_to_resolve", "within_sla_share", "suppressed")
    for feature in layer["features"]:
        code = feature["properties"]["code"]
        props = {
            "kelurahan_code": code,
            "kelurahan_name": feature["properties"]["name"],
            "kecamatan_code": feature["properties"]["parent_code"],
            "month": month,
        }
        for category in categories:
            row = by_kelurahan.get(code, {}).get(category)
            for field in fields:
                if row is None:
                    value = False if field == "suppressed" else (0 if field in COUNT_FIELDS else None)
                else:
                    value = row[field]
                props[f"{category}__{field}"] = value
        feature["properties"] = props
    layer["month"] = month
    layer["generated_at"] = generated_at.isoformat()
    layer["note"] = NOTE_ID
    layer["note_en"] = NOTE_EN
    return json.dumps(layer, ensure_ascii=False, separators=(",", ":"))


def build(now: datetime | None = None, *, every_month: bool = False) -> list[File]:
    """Every published file, built now: reports.csv, reports.json, reports.geojson (the last month) and
    catalog.json; with every_month also reports-YYYY-MM.geojson for each month (the portal export)."""
    generated_at = utcnow()
    published, first, last = rows(now)
    meta = {
        "dataset": "laporan-warga-per-kelurahan-bulanan",
        "generated_at": generated_at.isoformat(),
        "months": [month_key(first), month_key(last)],
        "note": NOTE_ID,
        "note_en": NOTE_EN,
        "licence": "CC-BY-4.0",
        "columns": list(COLUMNS),
    }
    months = months_of(meta)[2]
    files = [
        File("reports.csv", CSV, _csv(published)),
        File("reports.json", JSON, json.dumps({**meta, "rows": published}, ensure_ascii=False)),
        File("reports.geojson", GEOJSON, _geojson(published, month_key(last), generated_at)),
    ]
    if every_month:
        files += [File(f"reports-{m}.geojson", GEOJSON, _geojson(published, m, generated_at)) for m in months]
    files.append(File("catalog.json", JSON, json.dumps(catalog(first, last, months, generated_at), ensure_ascii=False)))
    # What the catalog served per request is rendered from (its download URLs name the server asked).
    files.append(
        File(
            META,
            JSON,
            json.dumps({"months": [month_key(first), month_key(last)], "generated_at": meta["generated_at"]}),
        )
    )
    return files


def months_of(meta: dict) -> tuple[date, date, list[str]]:
    """(first, last, every month) of a build's metadata."""
    first, last = (date.fromisoformat(m + "-01") for m in meta["months"])
    months, month = [], first
    while month <= last:
        months.append(month_key(month))
        month = add_months(month, 1)
    return first, last, months
