"""Schemas documenting the open-data files (the files themselves are built by jaki.opendata.publication)."""

from __future__ import annotations

import marshmallow as ma

from jaki.api import Schema
from jaki.opendata.publication import STATUS_COLUMNS


class CsvFileSchema(Schema):
    """text/csv: the columns of ReportsRowSchema, suppressed_fields joined with ';'."""


_ROW_FIELDS = {
    "month": ma.fields.String(metadata={"example": "2025-07"}),
    "area_level": ma.fields.String(metadata={"description": "kelurahan, or kecamatan for sensitive categories"}),
    "kota_code": ma.fields.String(),
    "kota_name": ma.fields.String(allow_none=True),
    "kecamatan_code": ma.fields.String(),
    "kecamatan_name": ma.fields.String(allow_none=True),
    "kelurahan_code": ma.fields.String(allow_none=True),
    "kelurahan_name": ma.fields.String(allow_none=True),
    "bps_code": ma.fields.String(allow_none=True, metadata={"description": "The statistics office's code"}),
    "category_code": ma.fields.String(),
    "category_name": ma.fields.String(),
    "reports": ma.fields.Integer(allow_none=True, metadata={"description": "null when suppressed (1-4)"}),
    # One column per public status (jaki.reports.workflow's labels), null when suppressed.
    **{status: ma.fields.Integer(allow_none=True) for status in STATUS_COLUMNS},
    "median_hours_to_resolve": ma.fields.Float(allow_none=True),
    "within_sla_share": ma.fields.Float(allow_none=True),
    "suppressed": ma.fields.Boolean(),
    "suppressed_fields": ma.fields.List(ma.fields.String()),
}
ReportsRowSchema = Schema.from_dict(_ROW_FIELDS, name="ReportsRowSchema")


class ReportsDocumentSchema(Schema):
    dataset = ma.fields.String()
    generated_at = ma.fields.DateTime()
    months = ma.fields.List(ma.fields.String(), metadata={"description": "[first, last]"})
    note = ma.fields.String()
    note_en = ma.fields.String()
    licence = ma.fields.String()
    columns = ma.fields.List(ma.fields.String())
    rows = ma.fields.List(ma.fields.Nested(ReportsRowSchema))


class ReportsFeatureSchema(Schema):
    type = ma.fields.Constant("Feature")
    id = ma.fields.String()
    properties = ma.fields.Dict(metadata={"description": "kelurahan_code, kelurahan_name, month, <category>__<field>"})
    geometry = ma.fields.Dict()


class ReportsFeatureCollectionSchema(Schema):
    type = ma.fields.Constant("FeatureCollection")
    month = ma.fields.String()
    generated_at = ma.fields.DateTime()
    note = ma.fields.String()
    note_en = ma.fields.String()
    features = ma.fields.List(ma.fields.Nested(ReportsFeatureSchema))


class CatalogSchema(Schema):
    """A DCAT catalog in JSON-LD (keys such as dcat:dataset are documented by DCAT itself)."""

    class Meta:
        unknown = ma.INCLUDE
