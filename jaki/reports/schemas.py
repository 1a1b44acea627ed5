"""Report request and response schemas. Public payloads never carry the reporter's id, NIK, phone or anonymous name."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload

from jaki.api import CursorPageArgsSchema, Schema, nested_schema
from jaki.geo.schemas import AreaName
from jaki.i18n import current_language, message, translate
from jaki.reports import clocks, queries
from jaki.reports import workflow as wf
from jaki.reports.photos import photo_url
from jaki.reports.proof_schemas import DeliverySchema, EscalationSchema, SlaSchema

V = ma.validate


def display_name(full_name: str | None) -> str | None:
    """What the public sees of a non-anonymous reporter: first name and the initial of the last ("Siti R.")."""
    if not full_name:
        return None
    words = full_name.split()
    if len(words) == 1:
        return words[0]
    return f"{words[0]} {words[-1][0]}."


class CommaList(ma.fields.Field):
    """A comma-separated query parameter ("a,b") as a list of strings."""

    def __init__(self, item_max: int = 40, max_items: int = 20, **kwargs):
        self.item_max = item_max
        self.max_items = max_items
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError(message("field_not_list"))
        items = [v.strip() for v in value.split(",") if v.strip()]
        if len(items) > self.max_items or any(len(v) > self.item_max for v in items):
            raise ma.ValidationError(message("field_list_too_long"))
        return items or None


# ---- categories ---------------------------------------------------------------------------------------


class CategorySchema(Schema):
    code = ma.fields.String()
    name = ma.fields.Method("_name")
    name_id = ma.fields.String(attribute="name")
    name_en = ma.fields.String()
    agency_code = ma.fields.String()
    sla_hours = ma.fields.Integer()
    duplicate_radius_m = ma.fields.Integer()
    active = ma.fields.Boolean()
    sort_order = ma.fields.Integer()
    verified_by = ma.fields.String(metadata={"description": "kelurahan (the kelurahan unit verifies) | agency"})
    sensitive = ma.fields.Boolean(metadata={"description": "Open data publishes its counts per kecamatan only"})
    validation_required = ma.fields.Boolean(
        metadata={"description": "A resolution waits in Menunggu Validasi for someone other than the resolver"}
    )
    evidence_radius_m = ma.fields.Integer(
        metadata={"description": "Evidence must be taken this close (plus GPS accuracy)"}
    )

    def _name(self, category):
        return category.name_en if current_language() == "en" else category.name


class CategoryCreateSchema(Schema):
    code = ma.fields.String(required=True, validate=V.Regexp(r"^[a-z][a-z0-9_]{1,39}$"))
    name = ma.fields.String(required=True, validate=V.Length(min=2, max=120))
    name_en = ma.fields.String(required=True, validate=V.Length(min=2, max=120))
    agency_code = ma.fields.String(required=True, validate=V.Length(max=40))
    # Jakarta's rule when a category names no SLA of its own: follow-up within 7 days.
    sla_hours = ma.fields.Integer(load_default=7 * 24, validate=V.Range(min=1, max=24 * 90))
    duplicate_radius_m = ma.fields.Integer(load_default=50, validate=V.Range(min=0, max=1000))
    active = ma.fields.Boolean(load_default=True)
    sort_order = ma.fields.Integer(load_default=100, validate=V.Range(min=0, max=10000))
    verified_by = ma.fields.String(load_default="kelurahan", validate=V.OneOf(wf.VERIFIERS))
    sensitive = ma.fields.Boolean(load_default=False)
    validation_required = ma.fields.Boolean(load_default=True)
    evidence_radius_m = ma.fields.Integer(load_default=100, validate=V.Range(min=10, max=1000))


class CategoryPatchSchema(Schema):
    name = ma.fields.String(validate=V.Length(min=2, max=120))
    name_en = ma.fields.String(validate=V.Length(min=2, max=120))
    agency_code = ma.fields.String(validate=V.Length(max=40))
    sla_hours = ma.fields.Integer(validate=V.Range(min=1, max=24 * 90))
    duplicate_radius_m = ma.fields.Integer(validate=V.Range(min=0, max=1000))
    active = ma.fields.Boolean()
    sort_order = ma.fields.Integer(validate=V.Range(min=0, max=10000))
    verified_by = ma.fields.String(validate=V.OneOf(wf.VERIFIERS))
    sensitive = ma.fields.Boolean()
    validation_required = ma.fields.Boolean()
    evidence_radius_m = ma.fields.Integer(validate=V.Range(min=10, max=1000))


# ---- reports: shared pieces ----------------------------------------------------------------------------


class PublicStatusSchema(Schema):
    code = ma.fields.String()
    label = ma.fields.String()


def public_status(status: str) -> dict:
    return {"code": wf.PUBLIC_LABELS[status], "label": translate(wf.label_message(status))}


class PhotoSchema(Schema):
    id = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "report (the citizen's) or evidence (the officer's proof)"})
    url = ma.fields.Function(lambda p: photo_url(p))
    thumbnail_url = ma.fields.Function(lambda p: photo_url(p, thumbnail=True))
    width = ma.fields.Integer()
    height = ma.fields.Integer()
    content_type = ma.fields.String()


class PublicReportSchema(Schema):
    """What anyone sees. No reporter id (it would link anonymous reports), NIK, phone or internal notes."""

    id = ma.fields.String()
    reference = ma.fields.String(metadata={"description": "Short reference to read out, e.g. LAP-3F2A9C1B"})
    category_code = ma.fields.String()
    category_name = ma.fields.Method("_category_name")
    description = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()
    status = ma.fields.String()
    public_status = ma.fields.Function(lambda r: public_status(r.status))
    reporter_name = ma.fields.Method(
        "_reporter_name", allow_none=True, metadata={"description": "First name and initial; null when anonymous"}
    )
    kelurahan_code = ma.fields.String(allow_none=True)
    kelurahan_name = AreaName(attribute="kelurahan_code")
    kecamatan_code = ma.fields.String(allow_none=True)
    kecamatan_name = AreaName(attribute="kecamatan_code")
    kota_code = ma.fields.String(allow_none=True)
    kota_name = AreaName(attribute="kota_code")
    agency_code = ma.fields.String()
    support_count = ma.fields.Integer()
    photos = ma.fields.List(ma.fields.Nested(PhotoSchema))
    resolution_note = ma.fields.String(allow_none=True)
    duplicate_of_id = ma.fields.String(allow_none=True)
    sla_due_at = ma.fields.DateTime()
    sla_breached = ma.fields.Function(lambda r: r.sla_breached_at is not None)
    sla = ma.fields.Function(
        lambda r: nested_schema(SlaSchema).dump(clocks.sla_view(r)),
        metadata={"description": "The SLA clock: due time, time left, pauses with their reason"},
    )
    merged_into = ma.fields.Method(
        "_merged_into", allow_none=True, metadata={"description": "The report this one was merged into"}
    )
    dispute_count = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    resolved_at = ma.fields.DateTime(allow_none=True)
    closed_at = ma.fields.DateTime(allow_none=True)

    def _category_name(self, report):
        return report.category.name_en if current_language() == "en" else report.category.name

    def _merged_into(self, report):
        if not report.duplicate_of_id:
            return None
        original = queries.merged_original(report)
        return {"id": original.id, "reference": original.reference, "public_status": public_status(original.status)}

    def _reporter_name(self, report):
        if report.anonymous or report.reporter_id is None:
            return None
        return display_name(report.reporter.full_name if report.reporter else None)


class PublicReportPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(PublicReportSchema))
    next_cursor = ma.fields.String(allow_none=True)


class NearbyItemSchema(Schema):
    distance_m = ma.fields.Float()
    report = ma.fields.Nested(PublicReportSchema)


class NearbyPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(NearbyItemSchema))


def _pin(report) -> dict:
    photo = next((p for p in report.photos if p.kind == "report"), None)
    return {
        "type": "Feature",
        "id": report.id,
        "geometry": {"type": "Point", "coordinates": [report.longitude, report.latitude]},
        "properties": {
            "cluster": False,
            "id": report.id,
            "category_code": report.category_code,
            "status": report.status,
            "public_status": public_status(report.status),
            "support_count": report.support_count,
            "created_at": report.created_at.isoformat(),
            "thumbnail_url": photo_url(photo, thumbnail=True) if photo else None,
        },
    }


def _cluster(cluster) -> dict:
    min_lat, min_lon, max_lat, max_lon = cluster.bounds
    return {
        "type": "Feature",
        "id": cluster.id,
        "geometry": {"type": "Point", "coordinates": [cluster.longitude, cluster.latitude]},
        "bbox": [round(min_lon, 6), round(min_lat, 6), round(max_lon, 6), round(max_lat, 6)],
        "properties": {"cluster": True, "count": cluster.count, "public_status_counts": cluster.by_status},
    }


# The map's answer is built by feature_collection below; these schemas document it (application/geo+json).


class PointSchema(Schema):
    type = ma.fields.Constant("Point")
    coordinates = ma.fields.List(ma.fields.Float(), metadata={"description": "[longitude, latitude] (RFC 7946)"})


class ReportFeatureSchema(Schema):
    type = ma.fields.Constant("Feature")
    id = ma.fields.String(metadata={"description": "The report's id, or the cluster's map tile"})
    geometry = ma.fields.Nested(PointSchema)
    bbox = ma.fields.List(
        ma.fields.Float(), metadata={"description": "Clusters only: the tile's [west, south, east, north] to zoom into"}
    )
    properties = ma.fields.Dict(
        metadata={
            "description": "A pin: cluster false, id, category_code, status, public_status, support_count, "
            "created_at, thumbnail_url. A cluster: cluster true, count, public_status_counts."
        }
    )


class ReportFeatureCollectionSchema(Schema):
    type = ma.fields.Constant("FeatureCollection")
    features = ma.fields.List(ma.fields.Nested(ReportFeatureSchema))
    clustered = ma.fields.Boolean(metadata={"description": "True when the features are clusters, not pins"})
    total = ma.fields.Integer(metadata={"description": "How many reports the features hold"})


def feature_collection(view) -> dict:
    """A GeoJSON FeatureCollection of report pins, or of clusters (a point at their centroid, a count and the
    tile's bbox to zoom into) when the viewport holds more reports than the pin limit."""
    features = [_cluster(c) for c in view.clusters] if view.clustered else [_pin(r) for r in view.pins]
    return {"type": "FeatureCollection", "features": features, "clustered": view.clustered, "total": view.total}


class HistoryEntrySchema(Schema):
    """A history row as the reporter sees it: who acted is a role, never a name."""

    at = ma.fields.DateTime()
    action = ma.fields.String()
    actor_role = ma.fields.String()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    public_status = ma.fields.Function(lambda h: public_status(h.to_status))
    reason = ma.fields.String(allow_none=True)


class StaffHistoryEntrySchema(HistoryEntrySchema):
    id = ma.fields.Integer()
    actor_id = ma.fields.String(allow_none=True)
    details = ma.fields.Dict(allow_none=True)


class RatingSchema(Schema):
    round = ma.fields.Integer(metadata={"description": "The resolution round rated (0 first, +1 per reopening)"})
    score = ma.fields.Integer()
    comment = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class MyReportSummarySchema(PublicReportSchema):
    """The reporter's own view in lists: adds the anonymity choice and the rejection reason."""

    anonymous = ma.fields.Boolean()
    rejection_reason = ma.fields.String(allow_none=True)
    reopen_count = ma.fields.Integer()
    version = ma.fields.Integer()


class MyReportSchema(MyReportSummarySchema):
    """One of my reports: with its history (roles, never names) and my rating."""

    history = ma.fields.Method("_history")
    rating = ma.fields.Method("_rating", allow_none=True)

    def _history(self, report):
        rows = [h for h in queries.history(report.id) if h.action not in ("sla_breached", "note")]
        return nested_schema(HistoryEntrySchema, many=True).dump(rows)

    ratings = ma.fields.List(ma.fields.Nested(RatingSchema), metadata={"description": "One per resolution round"})

    def _rating(self, report):
        rating = queries.current_rating(report)
        return nested_schema(RatingSchema).dump(rating) if rating else None


class MyReportPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(MyReportSummarySchema))
    next_cursor = ma.fields.String(allow_none=True)


class CommentSchema(Schema):
    """A public comment: the author shown by role ("Warga", "Petugas", "Pelapor"), never by name."""

    id = ma.fields.Integer()
    author = ma.fields.Method("_author")
    body = ma.fields.String()
    created_at = ma.fields.DateTime()

    def _author(self, comment):
        if comment.author_role == "citizen":
            return "warga"
        return "petugas"


class CommentPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(CommentSchema))
    next_cursor = ma.fields.String(allow_none=True)


class StaffCommentSchema(Schema):
    id = ma.fields.Integer()
    author_id = ma.fields.String(allow_none=True)
    author_role = ma.fields.String()
    internal = ma.fields.Boolean()
    body = ma.fields.String()
    created_at = ma.fields.DateTime()


def staff_status(report) -> dict:
    if report.status == wf.IN_PROGRESS and report.validation_rejected_at is not None:
        code = wf.VALIDATION_REJECTED_LABEL
        return {"code": code, "label": translate("report_label_" + code)}
    return public_status(report.status)


class StaffReportSchema(PublicReportSchema):
    """What staff in scope see: workflow fields, history and internal notes; the reporter only by id.

    The reporter's name and phone come from GET /officer/reports/{id}/reporter, which is audited.
    """

    reporter_id = ma.fields.String(allow_none=True)
    anonymous = ma.fields.Boolean()
    source = ma.fields.String()
    routing_distance_m = ma.fields.Float(allow_none=True)
    assigned_officer_id = ma.fields.String(allow_none=True)
    assigned_at = ma.fields.DateTime(allow_none=True)
    verified_at = ma.fields.DateTime(allow_none=True)
    dispatched_at = ma.fields.DateTime(allow_none=True)
    sla_breached_at = ma.fields.DateTime(allow_none=True)
    rejection_reason = ma.fields.String(allow_none=True)
    reopen_count = ma.fields.Integer()
    version = ma.fields.Integer()
    staff_status = ma.fields.Function(
        lambda r: staff_status(r), metadata={"description": "As public_status; TL Ditolak after a rejected validation"}
    )
    resolved_by_id = ma.fields.String(allow_none=True)
    work_done_at = ma.fields.DateTime(allow_none=True)
    validation_rejected_at = ma.fields.DateTime(allow_none=True)
    time_to_owner_seconds = ma.fields.Integer(allow_none=True)
    red_flag = ma.fields.Function(
        lambda r: clocks.red_flag(r), metadata={"description": "Open STATS_RED_FLAG_DAYS (6) days or more"}
    )


class StaffReportDetailSchema(StaffReportSchema):
    escalations = ma.fields.Function(
        lambda r: nested_schema(EscalationSchema, many=True).dump(clocks.escalations(r.id))
    )
    deliveries = ma.fields.Function(lambda r: nested_schema(DeliverySchema, many=True).dump(queries.deliveries(r.id)))
    history = ma.fields.Function(
        lambda r: nested_schema(StaffHistoryEntrySchema, many=True).dump(queries.history(r.id))
    )
    comments = ma.fields.Function(
        lambda r: nested_schema(StaffCommentSchema, many=True).dump(queries.comments_for_staff(r.id))
    )
    ratings = ma.fields.List(ma.fields.Nested(RatingSchema))
    rating = ma.fields.Function(
        lambda r: nested_schema(RatingSchema).dump(rating) if (rating := queries.current_rating(r)) else None
    )


class StaffReportPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(StaffReportSchema))
    next_cursor = ma.fields.String(allow_none=True)


class ReporterContactSchema(Schema):
    report_id = ma.fields.String()
    user_id = ma.fields.String()
    full_name = ma.fields.String()
    phone = ma.fields.String()
    nik_masked = ma.fields.String()


# ---- requests -----------------------------------------------------------------------------------------


class ReportCreateSchema(Schema):
    category = ma.fields.String(required=True, validate=V.Length(max=40))
    description = ma.fields.String(required=True, validate=V.Length(min=5, max=2000))
    latitude = ma.fields.Float(required=True, allow_nan=False)
    longitude = ma.fields.Float(required=True, allow_nan=False)
    address = ma.fields.String(load_default=None, allow_none=True, validate=V.Length(max=300))
    anonymous = ma.fields.Boolean(load_default=False)
    force = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "File even when similar open reports are near (otherwise 409 duplicate_nearby lists them)"
        },
    )


# What a phone sends; the bytes decide (jaki.media.images), the part's declared type is only documented.
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")


class PhotoFilesSchema(Schema):
    photos = ma.fields.List(
        Upload(),
        load_default=list,
        metadata={"description": "Up to 5 JPEG/PNG/WebP/HEIC photos", "content_types": PHOTO_TYPES},
    )


class EvidenceFilesSchema(Schema):
    photos = ma.fields.List(
        Upload(),
        required=True,
        validate=V.Length(min=1, max=1),
        metadata={
            "description": "One photo of the work (each needs its own capture token)",
            "content_types": PHOTO_TYPES,
        },
    )


class FeedArgsSchema(CursorPageArgsSchema):
    category = CommaList(load_default=None)
    status = CommaList(load_default=None, metadata={"description": "Internal statuses, comma-separated"})
    area = ma.fields.String(
        load_default=None,
        validate=V.Length(max=20),
        metadata={"description": "Kota, kecamatan or kelurahan code (31.74.05)"},
    )
    since = ma.fields.AwareDateTime(load_default=None)
    until = ma.fields.AwareDateTime(load_default=None)


class MapArgsSchema(Schema):
    bbox = ma.fields.String(required=True, metadata={"description": "min_lon,min_lat,max_lon,max_lat"})
    category = CommaList(load_default=None)
    status = CommaList(load_default=None)
    limit = ma.fields.Integer(
        load_default=None,
        validate=V.Range(min=1, max=500),
        metadata={
            "description": "Most pins (capped by the pin limit, 200 by default); a viewport holding more matching "
            "reports is answered with clusters"
        },
    )

    @ma.post_load
    def _bbox(self, data, **kwargs):
        try:
            min_lon, min_lat, max_lon, max_lat = (float(v) for v in data["bbox"].split(","))
        except ValueError:
            raise ma.ValidationError(translate("bbox_invalid"), "bbox") from None
        data["box"] = (min_lat, min_lon, max_lat, max_lon)
        return data


class NearbyArgsSchema(Schema):
    lat = ma.fields.Float(required=True, allow_nan=False)
    lon = ma.fields.Float(required=True, allow_nan=False)
    radius = ma.fields.Float(load_default=500, validate=V.Range(min=1, max=5000), allow_nan=False)
    category = CommaList(load_default=None)
    status = CommaList(load_default=None)
    limit = ma.fields.Integer(load_default=20, validate=V.Range(min=1, max=100))


class QueueArgsSchema(CursorPageArgsSchema):
    status = CommaList(load_default=None)
    category = CommaList(load_default=None)
    mine = ma.fields.Boolean(load_default=False)
    unrouted = ma.fields.Boolean(load_default=False, metadata={"description": "Admins: the triage queue"})
    overdue = ma.fields.Boolean(load_default=False, metadata={"description": "Open and past the SLA deadline now"})
    sla_breached = ma.fields.Boolean(
        load_default=False, metadata={"description": "Flagged as breached by the SLA job (stays after resolution)"}
    )
    area = ma.fields.String(
        load_default=None,
        validate=V.Length(max=20),
        metadata={"description": "A kota, kecamatan or kelurahan code (31.74, 31.74.05, 31.74.05.1002)"},
    )
    agency = ma.fields.String(
        load_default=None, validate=V.Length(max=20), metadata={"description": "Agency code (admins: any agency)"}
    )
    q = ma.fields.String(
        load_default=None,
        validate=V.Length(max=100),
        metadata={"description": "Text in the description or address, or a reference (LAP-3F2A9C1B)"},
    )


class ReferenceArgsSchema(Schema):
    reference = ma.fields.String(
        required=True, validate=V.Length(max=40), metadata={"description": "As the citizen reads it: LAP-3F2A9C1B"}
    )


class MyReportsArgsSchema(CursorPageArgsSchema):
    status = CommaList(load_default=None)


class TransitionSchema(Schema):
    to = ma.fields.String(required=True, validate=V.OneOf(wf.STATUSES))
    reason = ma.fields.String(load_default=None, allow_none=True, validate=V.Length(max=1000))
    note = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=V.Length(max=2000),
        metadata={"description": "Resolution note (to=resolved)"},
    )
    officer_id = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=V.Length(max=36),
        metadata={"description": "Dispatch to this officer (to=dispatched)"},
    )
    duplicate_of = ma.fields.String(load_default=None, allow_none=True, validate=V.Length(max=36))


class ReportStateSchema(Schema):
    """A report's workflow state after a change (the new ETag is in the header)."""

    id = ma.fields.String()
    status = ma.fields.String()
    public_status = ma.fields.Function(lambda r: public_status(r.status))
    assigned_officer_id = ma.fields.String(allow_none=True)
    kelurahan_code = ma.fields.String(allow_none=True)
    kelurahan_name = AreaName(attribute="kelurahan_code")
    agency_code = ma.fields.String()
    version = ma.fields.Integer()
    capture_token = ma.fields.Method(
        "_capture_token",
        allow_none=True,
        metadata={"description": "On starting work: the token the first evidence photo needs"},
    )

    def _capture_token(self, report):
        minted = getattr(report, "capture_token", None)
        return {"token": minted.token, "expires_at": minted.expires_at.isoformat()} if minted else None


class AssignSchema(Schema):
    officer_id = ma.fields.String(required=True, validate=V.Length(max=36))


class TransferSchema(Schema):
    kelurahan_code = ma.fields.String(load_default=None, allow_none=True, validate=V.Length(max=20))
    agency_code = ma.fields.String(load_default=None, allow_none=True, validate=V.Length(max=40))
    reason = ma.fields.String(required=True, validate=V.Length(min=1, max=1000))


class DuplicateSchema(Schema):
    duplicate_of = ma.fields.String(required=True, validate=V.Length(max=36))


class CommentCreateSchema(Schema):
    body = ma.fields.String(required=True, validate=V.Length(min=1, max=2000))


class SupportResultSchema(Schema):
    id = ma.fields.String()
    support_count = ma.fields.Integer()
    supported = ma.fields.Boolean()


class RatingCreateSchema(Schema):
    score = ma.fields.Integer(required=True, validate=V.Range(min=1, max=5))
    comment = ma.fields.String(load_default=None, allow_none=True, validate=V.Length(max=1000))


class PhotoArgsSchema(Schema):
    thumbnail = ma.fields.Boolean(load_default=False)
