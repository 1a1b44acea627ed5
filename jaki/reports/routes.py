"""Report endpoints: public feed/map/nearby, filing and following reports, officers' queue and workflow, categories.

Duplicates: POST /reports answers 409 `duplicate_nearby` with the nearby open reports of the same category in
`errors.duplicates` (support one of them with POST /reports/{id}/support) unless the form says force=true.
Edits of a report need `If-Match: <the ETag from GET>`: 428 without it, 412 when someone changed it first.
"""

from __future__ import annotations

from flask import Response, json, request
from flask_jwt_extended import current_user, get_jwt_identity, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError

from jaki.api import API_PREFIX, Blueprint
from jaki.auth.permissions import login_optional, login_required, roles_required
from jaki.caching import cacheable
from jaki.extensions import client_address, limiter
from jaki.idempotency import idempotent
from jaki.reports import (
    categories,
    citizens,
    evidence,
    external,
    operations,
    owners,
    photos,
    privacy,
    queries,
    scope,
    search,
    transitions,
    versions,
)
from jaki.reports import map as report_map
from jaki.reports import proof_schemas as ps
from jaki.reports import schemas as s
from jaki.settings import setting

reports_blp = Blueprint("reports", __name__, url_prefix=f"{API_PREFIX}/reports", description="Laporan warga")
officer_blp = Blueprint(
    "officer_reports",
    __name__,
    url_prefix=f"{API_PREFIX}/officer/reports",
    description="Laporan: antrean dan tindak lanjut petugas",
)
external_blp = Blueprint(
    "external_reports",
    __name__,
    url_prefix=f"{API_PREFIX}/external/reports",
    description="Laporan: jawaban instansi di luar Pemprov (webhook bertanda tangan)",
)
my_blp = Blueprint("my_reports", __name__, url_prefix=f"{API_PREFIX}/me/reports", description="Laporan saya")
categories_blp = Blueprint(
    "report_categories", __name__, url_prefix=f"{API_PREFIX}/report-categories", description="Kategori laporan"
)

IF_MATCH_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "If-Match",
            "required": True,
            "schema": {"type": "string"},
            "description": "The ETag of the report as last read",
        }
    ]
}


GEOJSON = "application/geo+json"


PHOTO_DOC = {
    "description": "The photo (JPEG, PNG or WebP; thumbnails JPEG)",
    "content": {
        t: {"schema": {"type": "string", "format": "binary"}} for t in ("image/jpeg", "image/png", "image/webp")
    },
}


def _viewer():
    """The logged-in user on a public endpoint (login_optional has checked the token), or None."""
    return current_user if get_jwt_identity() else None


def _user_key() -> str:
    """Rate-limit key: the user id when a valid token is sent, else the client address."""
    try:
        verify_jwt_in_request(optional=True)
    except (JWTExtendedException, PyJWTError):
        return "ip:" + client_address()
    identity = get_jwt_identity()
    return f"user:{identity}" if identity else "ip:" + client_address()


def _create_rate() -> str:
    return setting("REPORTS_CREATE_RATE")


def _if_match() -> int | None:
    return versions.parse_if_match(request.headers.get("If-Match"))


def _etag(report) -> dict:
    return {"ETag": versions.etag(report)}


def _read_uploads(files) -> list[bytes]:
    # One byte past the cap is enough to know a photo is too large, whatever the client claims.
    limit = setting("REPORTS_PHOTO_MAX_BYTES") + 1
    return [upload.stream.read(limit) for upload in files]


# ---- public -------------------------------------------------------------------------------------------


@reports_blp.route("", methods=["GET"])
@cacheable(shared=True)
@reports_blp.arguments(s.FeedArgsSchema, location="query")
@reports_blp.response(200, s.PublicReportPageSchema)
def feed(args):
    """Public feed, newest first: filter by category, status, area and time; keyset pages (next_cursor)."""
    return queries.list_reports(
        categories=args["category"],
        statuses=args["status"],
        area=args["area"],
        since=args["since"],
        until=args["until"],
        limit=args["limit"],
        cursor=args["cursor"],
    )


@reports_blp.route("/map", methods=["GET"])
@cacheable(shared=True)
@reports_blp.arguments(s.MapArgsSchema, location="query")
@reports_blp.response(200, s.ReportFeatureCollectionSchema, content_type=GEOJSON)
def map_viewport(args):
    """Reports in a map viewport as GeoJSON (`application/geo+json`): every one as a pin while there are at most
    `limit` (default 200), else clusters per map tile with their counts (`clustered` says which; `total` counts
    what they hold)."""
    view = report_map.map_view(*args["box"], categories=args["category"], statuses=args["status"], limit=args["limit"])
    return Response(json.dumps(s.feature_collection(view)), mimetype=GEOJSON)


@reports_blp.route("/nearby", methods=["GET"])
@cacheable(shared=True)
@reports_blp.arguments(s.NearbyArgsSchema, location="query")
@reports_blp.response(200, s.NearbyPageSchema)
def nearby(args):
    """Reports within `radius` metres (max 5000) of a point, nearest first."""
    found = queries.nearby(
        args["lat"],
        args["lon"],
        args["radius"],
        categories=args["category"],
        statuses=args["status"],
        limit=args["limit"],
    )
    return {"items": [{"distance_m": round(d, 1), "report": r} for r, d in found]}


@reports_blp.route("/<string:report_id>", methods=["GET"])
@cacheable()
@login_optional()
@reports_blp.response(200, s.PublicReportSchema)
def detail(report_id):
    """One report as the public sees it (ETag header: send it back as If-Match when acting on it)."""
    report = queries.get_public_report(report_id, _viewer())
    return report, _etag(report)


@reports_blp.route("/<string:report_id>/comments", methods=["GET"])
@cacheable()
@login_optional()
@reports_blp.arguments(s.CursorPageArgsSchema, location="query")
@reports_blp.response(200, s.CommentPageSchema)
def comments(args, report_id):
    """Public comments, oldest first (internal officer notes are never here)."""
    return queries.public_comments(report_id, limit=args["limit"], cursor=args["cursor"], viewer=_viewer())


@reports_blp.route("/<string:report_id>/photos/<string:photo_id>", methods=["GET"])
@login_optional()
@reports_blp.arguments(s.PhotoArgsSchema, location="query")
@reports_blp.doc(responses={200: PHOTO_DOC})
def photo(args, report_id, photo_id):
    """A photo (sanitised on upload: no EXIF, no GPS), or its thumbnail."""
    data, content_type, public = photos.read_photo(report_id, photo_id, args["thumbnail"], viewer=_viewer())
    return Response(
        data,
        mimetype=content_type,
        headers={
            "Cache-Control": "public, max-age=86400" if public else "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# ---- citizens -----------------------------------------------------------------------------------------


@reports_blp.route("", methods=["POST"])
@limiter.limit(_create_rate, key_func=_user_key, methods=["POST"])
@login_required()
@reports_blp.arguments(s.ReportCreateSchema, location="form", content_type="multipart/form-data")
@reports_blp.arguments(s.PhotoFilesSchema, location="files")
@reports_blp.response(201, s.MyReportSchema, location=("my_reports.my_report", {"report_id": "id"}))
def create(data, files):
    """File a report (multipart: fields and up to 5 `photos`); 409 duplicate_nearby offers similar reports."""
    result = operations.create_report(
        current_user,
        category_code=data["category"],
        description=data["description"],
        latitude=data["latitude"],
        longitude=data["longitude"],
        address=data["address"],
        anonymous=data["anonymous"],
        photos=_read_uploads(files["photos"]),
        force=data["force"],
    )
    return result.report, _etag(result.report)


@reports_blp.route("/<string:report_id>/transitions", methods=["POST"])
@login_required()
@reports_blp.doc(**IF_MATCH_DOC)
@reports_blp.arguments(s.TransitionSchema)
@reports_blp.response(200, s.ReportStateSchema)
def transition(data, report_id):
    """Change the status (staff: verify, reject, dispatch, start, resolve, duplicate; reporter: close, reopen)."""
    report = transitions.transition(
        current_user,
        report_id,
        data["to"],
        expected_version=_if_match(),
        reason=data["reason"],
        note=data["note"],
        officer_id=data["officer_id"],
        duplicate_of_id=data["duplicate_of"],
    )
    return report, _etag(report)


@reports_blp.route("/<string:report_id>/support", methods=["POST"])
@idempotent()  # a +1 answers 200, so the Blueprint does not add it: the retry gets the first count back
@roles_required("citizen")
@reports_blp.response(200, s.SupportResultSchema)
def support(report_id):
    """+1: I have this problem too (and want to hear about it). Idempotent."""
    report = operations.support(current_user, report_id)
    return {"id": report.id, "support_count": report.support_count, "supported": True}


@reports_blp.route("/<string:report_id>/comments", methods=["POST"])
@login_required()
@reports_blp.arguments(s.CommentCreateSchema)
@reports_blp.response(201, s.CommentSchema, location=("reports.comments", {"report_id": "report_id"}))
def add_comment(data, report_id):
    """Comment publicly on a report."""
    return operations.add_comment(current_user, report_id, data["body"])


@reports_blp.route("/<string:report_id>/rating", methods=["POST"])
@login_required()
@reports_blp.arguments(s.RatingCreateSchema)
@reports_blp.response(201, s.RatingSchema, location=("my_reports.my_report", {"report_id": "report_id"}))
def rate(data, report_id):
    """The reporter rates the outcome (1-5) once the report is resolved."""
    return operations.rate(current_user, report_id, data["score"], data["comment"])


@reports_blp.route("/<string:report_id>/confirm", methods=["POST"])
@roles_required("citizen")
@reports_blp.doc(**IF_MATCH_DOC)
@reports_blp.response(200, s.ReportStateSchema)
def confirm(report_id):
    """The reporter confirms the resolution (Selesai -> closed)."""
    report = citizens.confirm(current_user, report_id, expected_version=_if_match())
    return report, _etag(report)


@reports_blp.route("/<string:report_id>/dispute", methods=["POST"])
@roles_required("citizen")
@reports_blp.doc(**IF_MATCH_DOC)
@reports_blp.arguments(ps.DisputeFormSchema, location="form", content_type="multipart/form-data")
@reports_blp.arguments(ps.DisputeFilesSchema, location="files")
@reports_blp.response(200, s.ReportStateSchema)
def dispute(form, files, report_id):
    """The reporter disputes the resolution with a reason (and optionally a `photo`): reopened, counted, and the
    SLA starts again."""
    upload = files.get("photo")
    photo = _read_uploads([upload])[0] if upload else None
    report = citizens.dispute(current_user, report_id, form["reason"], photo, expected_version=_if_match())
    return report, _etag(report)


@reports_blp.route("/<string:report_id>/withdraw", methods=["POST"])
@roles_required("citizen")
@reports_blp.doc(**IF_MATCH_DOC)
@reports_blp.arguments(ps.ReportWithdrawSchema)
@reports_blp.response(200, s.ReportStateSchema)
def withdraw(data, report_id):
    """The reporter withdraws their report, before it is dispatched."""
    report = citizens.withdraw(current_user, report_id, reason=data["reason"], expected_version=_if_match())
    return report, _etag(report)


@my_blp.route("/<string:report_id>/hide-name", methods=["POST"])
@login_required()
@my_blp.doc(**IF_MATCH_DOC)
@my_blp.response(200, s.ReportStateSchema)
def hide_name(report_id):
    """Hide my name on my report from now on (the public sees it as anonymous)."""
    report = citizens.hide_name(current_user, report_id, expected_version=_if_match())
    return report, _etag(report)


@my_blp.route("", methods=["GET"])
@login_required()
@my_blp.arguments(s.MyReportsArgsSchema, location="query")
@my_blp.response(200, s.MyReportPageSchema)
def my_reports(args):
    """My reports, anonymous and rejected ones included, newest first."""
    return queries.my_reports(current_user, statuses=args["status"], limit=args["limit"], cursor=args["cursor"])


@my_blp.route("/<string:report_id>", methods=["GET"])
@login_required()
@my_blp.response(200, s.MyReportSchema)
def my_report(report_id):
    """One of my reports with its history."""
    report = queries.my_report(current_user, report_id)
    return report, _etag(report)


# ---- officers -----------------------------------------------------------------------------------------


STAFF_READERS = ("officer", "agency_admin", "admin", "validator")


@officer_blp.route("", methods=["GET"])
@roles_required(*STAFF_READERS)
@officer_blp.arguments(s.QueueArgsSchema, location="query")
@officer_blp.response(200, s.StaffReportPageSchema)
def queue(args):
    """My queue, most urgent first: my areas' reports to verify and my agency's work (agency admins: all of it;
    admins: every agency's). Filters: overdue, sla_breached, area, agency, q (text or reference)."""
    return queries.officer_queue(
        current_user,
        statuses=args["status"],
        mine=args["mine"],
        unrouted=args["unrouted"],
        categories=args["category"],
        limit=args["limit"],
        cursor=args["cursor"],
        overdue=args["overdue"],
        sla_breached=args["sla_breached"],
        area=args["area"],
        agency=args["agency"],
        q=args["q"],
    )


@officer_blp.route("/by-reference", methods=["GET"])
@roles_required(*STAFF_READERS)
@officer_blp.arguments(s.ReferenceArgsSchema, location="query")
@officer_blp.response(200, s.StaffReportDetailSchema)
def by_reference(args):
    """The report a citizen reads out over the phone (LAP-3F2A9C1B; spaces, dashes and case do not matter), if
    it is in my scope (403 otherwise; 409 reference_ambiguous lists the ids in the rare case of two)."""
    report = search.by_reference(current_user, args["reference"])
    return report, _etag(report)


@officer_blp.route("/<string:report_id>", methods=["GET"])
@roles_required(*STAFF_READERS)
@officer_blp.response(200, s.StaffReportDetailSchema)
def staff_detail(report_id):
    """A report with its history and internal notes (the reporter only by id)."""
    report = scope.get_for_staff(current_user, report_id)
    return report, _etag(report)


@officer_blp.route("/<string:report_id>/reporter", methods=["GET"])
@roles_required("officer", "agency_admin", "admin")
@officer_blp.doc(
    parameters=[
        {
            "in": "header",
            "name": "X-Access-Reason",
            "required": True,
            "schema": {"type": "string"},
            "description": "Why you need to contact the reporter",
        }
    ]
)
@officer_blp.response(200, s.ReporterContactSchema)
def reporter(report_id):
    """The reporter's name and phone (audited: who, whose, when, why)."""
    return privacy.reporter_contact(current_user, report_id, request.headers.get("X-Access-Reason"))


@officer_blp.route("/<string:report_id>/claim", methods=["POST"])
@roles_required("officer", "agency_admin")
@officer_blp.doc(**IF_MATCH_DOC)
@officer_blp.response(200, s.ReportStateSchema)
def claim(report_id):
    """Take the report: it is assigned to me (a verified report becomes dispatched)."""
    report = transitions.claim(current_user, report_id, expected_version=_if_match())
    return report, _etag(report)


@officer_blp.route("/<string:report_id>/assign", methods=["POST"])
@roles_required("agency_admin", "admin")
@officer_blp.doc(**IF_MATCH_DOC)
@officer_blp.arguments(s.AssignSchema)
@officer_blp.response(200, s.ReportStateSchema)
def assign(data, report_id):
    """Give a dispatched report to one of the agency's officers."""
    report = transitions.assign(current_user, report_id, data["officer_id"], expected_version=_if_match())
    return report, _etag(report)


@officer_blp.route("/<string:report_id>/transfer", methods=["POST"])
@roles_required("officer", "agency_admin", "admin")
@officer_blp.doc(**IF_MATCH_DOC)
@officer_blp.arguments(s.TransferSchema)
@officer_blp.response(200, s.ReportStateSchema)
def transfer(data, report_id):
    """Pass the report to another kelurahan (verified again there) or agency (dispatched again)."""
    report = transitions.transfer(
        current_user,
        report_id,
        expected_version=_if_match(),
        reason=data["reason"],
        kelurahan_code=data["kelurahan_code"],
        agency_code=data["agency_code"],
    )
    return report, _etag(report)


@officer_blp.route("/<string:report_id>/duplicate", methods=["POST"])
@roles_required("officer", "agency_admin", "admin")
@officer_blp.doc(**IF_MATCH_DOC)
@officer_blp.arguments(s.DuplicateSchema)
@officer_blp.response(200, s.ReportStateSchema)
def duplicate(data, report_id):
    """Mark the report a duplicate of another open report; its reporter and supporters follow the original."""
    report = transitions.mark_duplicate(current_user, report_id, data["duplicate_of"], expected_version=_if_match())
    return report, _etag(report)


@officer_blp.route("/<string:report_id>/notes", methods=["POST"])
@roles_required("officer", "agency_admin", "admin")
@officer_blp.arguments(s.CommentCreateSchema)
@officer_blp.response(201, s.StaffCommentSchema, location=("officer_reports.staff_detail", {"report_id": "report_id"}))
def add_note(data, report_id):
    """An internal note: staff only, never public."""
    return operations.add_comment(current_user, report_id, data["body"], internal=True)


@officer_blp.route("/<string:report_id>/evidence", methods=["POST"])
@roles_required("officer", "agency_admin", "admin")
@officer_blp.arguments(ps.EvidenceFormSchema, location="form", content_type="multipart/form-data")
@officer_blp.arguments(s.EvidenceFilesSchema, location="files")
@officer_blp.response(
    201, s.PhotoSchema(many=True), location=("officer_reports.staff_detail", {"report_id": "report_id"})
)
def add_evidence(form, files, report_id):
    """Upload one photo proving the work (multipart `photos`) with the capture token of this assignment, the
    capture time and the GPS fix (latitude, longitude, accuracy_m); `phase` before or after. Refusals say why:
    capture_token_missing/_invalid/_expired/_used, evidence_too_far, evidence_captured_before_claim,
    evidence_captured_after_upload, evidence_photo_reused. Resolving needs an "after" photo of this round."""
    photo = evidence.add_evidence(
        current_user,
        report_id,
        _read_uploads(files["photos"])[0],
        token=form["token"],
        captured_at=form["captured_at"],
        latitude=form["latitude"],
        longitude=form["longitude"],
        accuracy_m=form["accuracy_m"],
        phase=form["phase"],
    )
    return [photo]


@officer_blp.route("/<string:report_id>/capture-tokens", methods=["POST"])
@roles_required("officer", "agency_admin", "admin")
@officer_blp.response(201, ps.CaptureTokenSchema, location=("officer_reports.staff_detail", {"report_id": "report_id"}))
def capture_token(report_id):
    """A capture token for the next evidence photo (single use, short-lived), for the officer at work."""
    return evidence.new_capture_token(current_user, report_id)


@officer_blp.route("/<string:report_id>/category", methods=["POST"])
@roles_required("officer", "agency_admin", "admin")
@officer_blp.doc(**IF_MATCH_DOC)
@officer_blp.arguments(ps.CategoryChangeSchema)
@officer_blp.response(200, s.ReportStateSchema)
def correct_category(data, report_id):
    """Correct a wrongly chosen category: re-routed to its agency, SLA from the same origin, history kept."""
    report = owners.correct_category(
        current_user, report_id, data["category"], reason=data["reason"], expected_version=_if_match()
    )
    return report, _etag(report)


@officer_blp.route("/<string:report_id>/not-ours", methods=["POST"])
@roles_required("officer", "agency_admin", "admin")
@officer_blp.doc(**IF_MATCH_DOC)
@officer_blp.arguments(ps.NotOursSchema)
@officer_blp.response(200, s.ReportStateSchema)
def not_ours(data, report_id):
    """Not our responsibility: name the body that is (it may be outside the Pemprov); the report goes there."""
    report = owners.not_ours(
        current_user, report_id, data["agency_code"], reason=data["reason"], expected_version=_if_match()
    )
    return report, _etag(report)


# ---- bodies outside the Pemprov -----------------------------------------------------------------------


@external_blp.route("/<string:report_id>/answers", methods=["POST"])
@external_blp.doc(
    parameters=[
        {"in": "header", "name": h, "required": True, "schema": {"type": "string"}}
        for h in ("X-Jaki-Agency", "X-Jaki-Timestamp", "X-Jaki-Signature")
    ],
    requestBody={"content": {"application/json": {"schema": {"type": "object"}}}},
)
@external_blp.response(200, s.ReportStateSchema)
def external_answer(report_id):
    """The external body's answer (JSON {status: received | in_progress | resolved | not_ours, note, remote_id}),
    signed: X-Jaki-Signature = sha256=HMAC-SHA256(secret, X-Jaki-Timestamp + "." + body)."""
    return external.answer(
        report_id,
        agency_code=request.headers.get("X-Jaki-Agency"),
        timestamp=request.headers.get("X-Jaki-Timestamp"),
        signature=request.headers.get("X-Jaki-Signature"),
        raw=request.get_data(cache=False)[:20_000],
    )


# ---- categories ---------------------------------------------------------------------------------------


@categories_blp.route("", methods=["GET"])
@cacheable()
@categories_blp.response(200, s.CategorySchema(many=True))
def list_categories():
    """Active report categories, with the responsible agency and the SLA."""
    return categories.list_categories()


@categories_blp.route("", methods=["POST"])
@roles_required("admin")
@categories_blp.arguments(s.CategoryCreateSchema)
@categories_blp.response(201, s.CategorySchema, location=("report_categories.list_categories", {}))
def create_category(data):
    """Add a category (admins)."""
    return categories.create_category(**data)


@categories_blp.route("/<string:code>", methods=["PATCH"])
@roles_required("admin")
@categories_blp.arguments(s.CategoryPatchSchema)
@categories_blp.response(200, s.CategorySchema)
def update_category(data, code):
    """Change a category's names, agency, SLA, duplicate radius or activity (admins)."""
    return categories.update_category(code, data)
