"""Area request and response schemas, and the field that shows an area's name beside its code."""

from __future__ import annotations

import marshmallow as ma

from jaki.api import Schema
from jaki.geo.queries import LEVEL_FILTERS, MAP_LEVELS, area_name

V = ma.validate


class AreaName(ma.fields.String):
    """The name of the area whose code `attribute` holds, e.g. AreaName(attribute="kelurahan_code").

    Names come from the names this process keeps (jaki.geo.queries.area_names): a page of reports costs no query
    for them, not one per row.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("dump_only", True)
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else area_name(value)


class AreaListArgsSchema(Schema):
    level = ma.fields.String(
        load_default=None,
        validate=V.OneOf(tuple(LEVEL_FILTERS)),
        metadata={"description": "kota is the whole second tier (5 kota and the kabupaten Kepulauan Seribu)"},
    )
    parent = ma.fields.String(
        load_default=None,
        validate=V.Length(max=20),
        metadata={"description": "Only the areas directly under this code (31.74: the kecamatan of Jakarta Selatan)"},
    )


class AreaRefSchema(Schema):
    code = ma.fields.String(metadata={"description": "Dotted Kemendagri code, e.g. 31.74.05"})
    level = ma.fields.String(metadata={"description": "provinsi, kota, kabupaten, kecamatan or kelurahan"})
    name = ma.fields.String()


class AreaSchema(AreaRefSchema):
    parent_code = ma.fields.String(allow_none=True)
    bps_code = ma.fields.String(allow_none=True, metadata={"description": "The statistics office's (BPS) code"})
    bbox = ma.fields.List(
        ma.fields.Float(), allow_none=True, metadata={"description": "[min_lon, min_lat, max_lon, max_lat]"}
    )


class AreaListSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(AreaSchema))


class AreaDetailSchema(AreaSchema):
    parents = ma.fields.List(
        ma.fields.Nested(AreaRefSchema),
        metadata={"description": "The areas above, nearest first: kecamatan, kota, provinsi for a kelurahan"},
    )


class AreaMapArgsSchema(Schema):
    level = ma.fields.String(required=True, validate=V.OneOf(tuple(MAP_LEVELS)))


# The map layer is assembled from stored text (jaki.geo.queries.map_layer); these schemas document it.


class GeometrySchema(Schema):
    type = ma.fields.String(validate=V.OneOf(("Polygon", "MultiPolygon")))
    coordinates = ma.fields.List(
        ma.fields.Raw(),
        metadata={"description": "Rings of [longitude, latitude] positions, 5 decimals (RFC 7946)"},
    )


class AreaFeaturePropertiesSchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    level = ma.fields.String()
    parent_code = ma.fields.String(allow_none=True)


class AreaFeatureSchema(Schema):
    type = ma.fields.Constant("Feature")
    id = ma.fields.String(metadata={"description": "The area's code"})
    properties = ma.fields.Nested(AreaFeaturePropertiesSchema)
    geometry = ma.fields.Nested(GeometrySchema, allow_none=True)


class AreaFeatureCollectionSchema(Schema):
    type = ma.fields.Constant("FeatureCollection")
    features = ma.fields.List(ma.fields.Nested(AreaFeatureSchema))
