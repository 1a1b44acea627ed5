"""Open311 GeoReport v2 over jaki's citizen reports, for existing Open311 clients and aggregators."""

from __future__ import annotations

from jaki import i18n

MESSAGES: dict[str, tuple[str, str]] = {
    "open311_api_key_invalid": (
        "api_key tidak diisi, tidak valid, atau sudah dicabut.",
        "The api_key is missing, not valid, or revoked.",
    ),
    "open311_service_code_required": ("service_code wajib diisi.", "service_code is required."),
    "open311_service_unknown": (
        "service_code tidak dikenal. Lihat daftar di services.xml.",
        "Unknown service_code. See the list at services.xml.",
    ),
    "open311_location_required": (
        "Koordinat lokasi wajib diisi (lat dan long); address_string atau address_id saja tidak cukup.",
        "Coordinates are required (lat and long); address_string or address_id alone is not enough.",
    ),
    "open311_parameter_invalid": ("Parameter tidak valid.", "A parameter is not valid."),
    "open311_jurisdiction_unknown": (
        "jurisdiction_id tidak dikenal: server ini hanya melayani {jurisdiction}.",
        "Unknown jurisdiction_id: this server serves {jurisdiction} only.",
    ),
    "open311_request_not_found": ("service_request_id tidak ditemukan.", "No such service_request_id."),
    "open311_token_not_found": ("Token tidak ditemukan.", "No such token."),
    "open311_date_range_invalid": (
        "start_date harus sebelum end_date.",
        "start_date must come before end_date.",
    ),
    "open311_date_range_too_long": (
        "Rentang start_date sampai end_date paling lama {days} hari.",
        "start_date to end_date may span {days} days at most.",
    ),
    "open311_too_many_ids": (
        "Paling banyak {max} service_request_id sekaligus.",
        "At most {max} service_request_id values at once.",
    ),
    "open311_notice": (
        "Laporan diterima dan diteruskan ke {agency}. Target tindak lanjut {hours} jam.",
        "Report received and passed to {agency}. Target for follow-up: {hours} hours.",
    ),
    "open311_notice_duplicates": (
        "Ada {count} laporan serupa yang masih aktif di sekitar lokasi ini.",
        "{count} similar open reports exist near this location.",
    ),
    "open311_service_description": (
        "{name}, ditangani {agency}. Target tindak lanjut {hours} jam.",
        "{name}, handled by {agency}. Target for follow-up: {hours} hours.",
    ),
    "open311_no_description": (
        "Laporan {service} tanpa keterangan (dikirim lewat Open311).",
        "{service} report without a description (sent through Open311).",
    ),
    "open311_duplicate_note": ("Digabung dengan laporan {id}.", "Merged with report {id}."),
    "open311_key_service": (
        "API key diterbitkan oleh admin jaki; hubungi {contact}.",
        "API keys are issued by jaki's admins; contact {contact}.",
    ),
}

i18n.register(MESSAGES)


def init_app(app) -> None:
    """The Open311 blueprint under OPEN311_BASE_PATH, admin/staff endpoints, `flask open311`."""
    # Imported when the app is built: importing the package (its messages) stays free of routes, spec and CLI.
    from jaki.api import OPEN311_ERROR
    from jaki.extensions import api
    from jaki.open311 import routes
    from jaki.open311.cli import open311_cli
    from jaki.open311.schemas import OPEN311_ERROR_RESPONSE

    api.spec.components.response(OPEN311_ERROR, OPEN311_ERROR_RESPONSE)

    base_path = "/" + app.config["OPEN311_BASE_PATH"].strip("/")
    app.config["OPEN311_BASE_PATH"] = base_path
    api.register_blueprint(routes.open311_blp, url_prefix=base_path)
    api.register_blueprint(routes.admin_blp)
    api.register_blueprint(routes.staff_blp)
    app.cli.add_command(open311_cli)
