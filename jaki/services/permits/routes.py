"""Permits (/permits, /me/permits, /officer/permits), letters (/letters, /me/letters, /officer/letters) and the
admins' service-level calendar (/admin/service-calendar)."""

from __future__ import annotations

import io

from flask import send_file
from flask_jwt_extended import current_user

from jaki.api import API_PREFIX, Blueprint
from jaki.auth.permissions import login_required, roles_required
from jaki.services.permits import calendar, operations
from jaki.services.permits.schemas import (
    ApplicationDocumentFileSchema,
    ApplicationDocumentFormSchema,
    ApplicationDocumentSchema,
    ApplicationQueueArgsSchema,
    ApplicationQueuePageSchema,
    ApplicationSchema,
    ApplicationSummarySchema,
    ApplicationTransitionSchema,
    ApplicationTypeSchema,
    CalendarDayPutSchema,
    CalendarDaySchema,
    CalendarYearArgsSchema,
    LetterCreateSchema,
    OfficerApplicationSchema,
    PermitCreateSchema,
    WithdrawSchema,
)

FILE_DOC = {
    "description": "The document's bytes, as an attachment",
    "content": {
        t: {"schema": {"type": "string", "format": "binary"}} for t in ("application/pdf", "image/jpeg", "image/png")
    },
}


def _file(document, data: bytes):
    # Served as an attachment with a sniffed type: an uploaded file is never rendered in the app's origin.
    response = send_file(
        io.BytesIO(data), mimetype=document.content_type, as_attachment=True, download_name=document.filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def make_blueprint(kind: str, segment: str, create_schema, description: str) -> Blueprint:
    blp = Blueprint(segment, __name__, url_prefix=API_PREFIX, description=description)

    @blp.route(f"/{segment}/types", methods=["GET"])
    @blp.response(200, ApplicationTypeSchema(many=True))
    def types():
        """The kinds of application, their SLA in working days and their document checklists (public)."""
        return operations.list_types(kind)

    @blp.route(f"/me/{segment}", methods=["GET"])
    @login_required()
    @blp.response(200, ApplicationSummarySchema(many=True))
    def list_mine():
        """My applications, newest first."""
        return operations.list_own(current_user, kind)

    @blp.route(f"/me/{segment}", methods=["POST"])
    @login_required()
    @blp.arguments(create_schema)
    @blp.response(201, ApplicationSchema, location=(f"{segment}.get_mine", {"application_id": "id"}))
    def create(data):
        """Start an application (a draft): then upload its documents and submit it."""
        return operations.create(current_user, kind, data)

    @blp.route(f"/me/{segment}/<string:application_id>", methods=["GET"])
    @login_required()
    @blp.response(200, ApplicationSchema)
    def get_mine(application_id):
        """One of my applications with its document checklist and timeline."""
        return operations.own(current_user, application_id, kind)

    @blp.route(f"/me/{segment}/<string:application_id>/documents", methods=["POST"])
    @login_required()
    @blp.arguments(ApplicationDocumentFormSchema, location="form")
    @blp.arguments(ApplicationDocumentFileSchema, location="files")
    @blp.response(
        201,
        ApplicationDocumentSchema,
        location=(f"{segment}.download_mine", {"application_id": "application_id", "document_id": "id"}),
    )
    def upload(form, files, application_id):
        """Attach a document of the checklist (replaces one of the same kind) while a draft or in revision."""
        return operations.upload_document(current_user, application_id, kind, form["kind"], files["file"])

    @blp.route(f"/me/{segment}/<string:application_id>/documents/<string:document_id>", methods=["GET"])
    @login_required()
    @blp.doc(responses={"200": FILE_DOC})
    def download_mine(application_id, document_id):
        """Download one of my documents."""
        application = operations.own(current_user, application_id, kind)
        return _file(*operations.read_document(application, document_id))

    @blp.route(f"/me/{segment}/<string:application_id>/documents/<string:document_id>", methods=["DELETE"])
    @login_required()
    @blp.response(204)
    def delete_document(application_id, document_id):
        """Remove a document while the application is a draft or in revision."""
        operations.delete_document(current_user, application_id, kind, document_id)

    @blp.route(f"/me/{segment}/<string:application_id>/submit", methods=["POST"])
    @login_required()
    @blp.response(200, ApplicationSchema)
    def submit(application_id):
        """Submit the draft (or the requested revision); every required document must be attached."""
        return operations.submit(current_user, application_id, kind)

    @blp.route(f"/me/{segment}/<string:application_id>/withdraw", methods=["POST"])
    @login_required()
    @blp.arguments(WithdrawSchema)
    @blp.response(200, ApplicationSchema)
    def withdraw(data, application_id):
        """Withdraw my application before the office has decided."""
        return operations.withdraw(current_user, application_id, kind, data["note"])

    @blp.route(f"/officer/{segment}", methods=["GET"])
    @roles_required("officer", "agency_admin")
    @blp.arguments(ApplicationQueueArgsSchema, location="query")
    @blp.response(200, ApplicationQueuePageSchema)
    def queue(args):
        """Applications for my agency in my areas, most urgent deadline first."""
        return operations.officer_queue(current_user, kind, args)

    @blp.route(f"/officer/{segment}/<string:application_id>", methods=["GET"])
    @roles_required("officer", "agency_admin")
    @blp.response(200, OfficerApplicationSchema)
    def officer_get(application_id):
        """An application with the applicant's details and documents (audited)."""
        return operations.officer_read(current_user, application_id, kind)

    @blp.route(f"/officer/{segment}/<string:application_id>/documents/<string:document_id>", methods=["GET"])
    @roles_required("officer", "agency_admin")
    @blp.doc(responses={"200": FILE_DOC})
    def officer_download(application_id, document_id):
        """Download an applicant's document (audited)."""
        return _file(*operations.officer_document(current_user, application_id, kind, document_id))

    @blp.route(f"/officer/{segment}/<string:application_id>/status", methods=["POST"])
    @roles_required("officer", "agency_admin")
    @blp.arguments(ApplicationTransitionSchema)
    @blp.response(200, OfficerApplicationSchema)
    def transition(data, application_id):
        """Move the application to its next status (only the allowed transitions; rejection needs a note)."""
        return operations.officer_transition(current_user, application_id, kind, data)

    return blp


permits_blp = make_blueprint("permit", "permits", PermitCreateSchema, "Perizinan (DPMPTSP)")
letters_blp = make_blueprint("letter", "letters", LetterCreateSchema, "Surat keterangan kelurahan/kecamatan")


calendar_blp = Blueprint(
    "service_calendar", __name__, url_prefix=f"{API_PREFIX}/admin/service-calendar", description="Kalender layanan"
)


@calendar_blp.route("", methods=["GET"])
@roles_required("admin")
@calendar_blp.arguments(CalendarYearArgsSchema, location="query")
@calendar_blp.response(200, CalendarDaySchema(many=True))
def calendar_year(args):
    """The year's days off that deadlines skip (weekends aside): Indonesia's holidays and cuti bersama from the
    holidays library, and the admin's dated additions and exceptions, which take precedence."""
    return calendar.year_view(args["year"])


@calendar_blp.route("/<string:day>", methods=["PUT"])
@roles_required("admin")
@calendar_blp.arguments(CalendarDayPutSchema)
@calendar_blp.response(200, CalendarDaySchema)
def calendar_put(data, day):
    """Add or change a day: a cuti bersama the library does not know yet (holiday), or a day worked (workday)."""
    row = calendar.set_day(current_user, calendar.parse_day(day), data["kind"], data["name"])
    return {"day": row.day, "kind": row.kind, "name": row.name, "source": calendar.ADMIN}


@calendar_blp.route("/<string:day>", methods=["DELETE"])
@roles_required("admin")
@calendar_blp.response(204)
def calendar_delete(day):
    """Remove an admin's day: the library's calendar applies to it again."""
    calendar.remove_day(calendar.parse_day(day))
