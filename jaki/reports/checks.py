"""Checks of what a request brings: free text, and the point a search starts from or a report is filed at."""

from __future__ import annotations

import math

from jaki.errors import JakiError, field_error
from jaki.geo import operations as geo
from jaki.geo.spatial import in_jakarta_bbox
from jaki.i18n import translate


def clean_text(value: str, field: str) -> str:
    """Stripped free text; NUL characters (which PostgreSQL cannot store) are a validation error, not a 500."""
    if "\x00" in value:
        raise field_error(field, "validation_error")
    return value.strip()


def require_text(value: str | None, field: str, code: str) -> str:
    value = clean_text(value or "", field)
    if not value:
        raise field_error(field, code)
    return value


def outside_jakarta(region_name: str | None = None) -> JakiError:
    message = (
        translate("location_in_neighbour_region", region=region_name)
        if region_name
        else translate("location_outside_jakarta")
    )
    return JakiError(
        "location_outside_jakarta",
        status=422,
        message=message,
        errors={"latitude": [message], "longitude": [message]},
    )


def check_location(latitude: float, longitude: float) -> None:
    """A point a nearby search may start from: finite and within Jakarta's bounding box (a search may look across
    the border; a new report may not: route_location)."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)) or not in_jakarta_bbox(latitude, longitude):
        raise outside_jakarta()


def route_location(latitude: float, longitude: float) -> geo.Routing:
    """Where a new report goes, decided by the real boundaries (jaki.geo.operations.locate). A point on a
    neighbour's land is refused naming the region; one at sea beyond the gap distance is refused too."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise outside_jakarta()
    routing = geo.locate(latitude, longitude)
    if not routing.routed:
        raise outside_jakarta(routing.region_name)
    return routing
