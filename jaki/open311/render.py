"""Open311 documents in XML (required, with declaration) and JSON (mirrors it), UTF-8, W3C datetimes in WIB."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET  # builds and serialises our own documents only; never parses input
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from flask import Response, request

from jaki.i18n import current_language, translate
from jaki.reports import workflow as wf
from jaki.reports.photos import photo_url
from jaki.timezone import WIB

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# Characters XML 1.0 cannot carry at all (control characters a citizen may paste into a description).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Repeated:
    """A list inside a document: in XML each item is a <tag> element, in JSON a plain array."""

    tag: str
    items: list


def w3c(value: datetime | None) -> str | None:
    """W3C datetime with Jakarta's offset, e.g. 2026-11-23T19:20:05+07:00."""
    if value is None:
        return None
    return value.astimezone(WIB).isoformat(timespec="seconds")


def _scalar(value):
    if isinstance(value, datetime):
        return w3c(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    return value


def _xml_text(value) -> str | None:
    value = _scalar(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, Repeated):
        for item in value.items:
            _fill(ET.SubElement(element, value.tag), item)
    else:
        element.text = _xml_text(value)


def _jsonable(value):
    if isinstance(value, Mapping):
        return {key: _jsonable(child) for key, child in value.items()}
    if isinstance(value, Repeated):
        return [_jsonable(item) for item in value.items]
    return _scalar(value)


def to_xml(root_tag: str, body) -> bytes:
    root = ET.Element(root_tag)
    _fill(root, body)
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode", short_empty_elements=True)).encode("utf-8")


def to_json(body) -> bytes:
    return json.dumps(_jsonable(body), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def document(fmt: str, root_tag: str, body, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """One response: `body` is a Repeated (a list document) or a mapping (a single object document)."""
    data = to_xml(root_tag, body) if fmt == "xml" else to_json(body)
    response = Response(data, status=status, content_type=CONTENT_TYPES[fmt])
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def listing(fmt: str, root_tag: str, item_tag: str, items: Iterable[Mapping], status: int = 200) -> Response:
    """<root><item/>...</root> in XML, [{...}] in JSON."""
    return document(fmt, root_tag, Repeated(item_tag, list(items)), status)


def errors(fmt: str, status: int, descriptions: Iterable[str], headers: Mapping[str, str] | None = None) -> Response:
    """The Open311 error document: [{code, description}] with the HTTP status as the code."""
    items = [{"code": status, "description": text} for text in descriptions]
    return document(fmt, "errors", Repeated("error", items), status, headers)


def format_of_path(path: str) -> str:
    """The format a URL asks for (.json), XML otherwise: XML is the format every Open311 client reads."""
    return "json" if path.lower().endswith(".json") else "xml"


# ---- the documents' items -------------------------------------------------------------------------------
# Field order is the spec's: XML clients often read elements positionally.


def service_item(category, agencies: Mapping[str, str]) -> dict:
    english = current_language() == "en"
    name = category.name_en if english else category.name
    agency = agencies.get(category.agency_code, category.agency_code)
    other_name = category.name if english else category.name_en
    return {
        "service_code": category.code,
        "service_name": name,
        "description": translate("open311_service_description", name=name, agency=agency, hours=category.sla_hours),
        "metadata": False,  # no category has attributes (yet): clients need not fetch the definition
        "type": "realtime",  # the report exists (and has its id) when POST answers
        "keywords": ", ".join(dict.fromkeys([category.code.replace("_", " "), other_name.lower()])),
        "group": agency,
    }


def service_definition(category) -> dict:
    return {"service_code": category.code, "attributes": Repeated("attribute", [])}


def _media_url(report) -> str | None:
    """The public URL of the reporter's first photo (absolute: aggregators fetch it from elsewhere)."""
    photo = next((p for p in report.photos if p.kind == "report"), None)
    if photo is None:
        return None
    return urljoin(request.host_url, photo_url(photo))


def _status_notes(report) -> str:
    if report.status == wf.DUPLICATE and report.duplicate_of_id:
        return translate("open311_duplicate_note", id=report.duplicate_of_id)
    if report.resolution_note and report.status in (wf.RESOLVED, wf.CLOSED):
        return report.resolution_note  # the officer's public resolution note, as the public feed shows it
    return translate(wf.label_message(report.status))  # JAKI's finer public status (Proses, Disposisi, ...)


def request_item(report, agencies: Mapping[str, str], submission=None) -> dict:
    """A report as anyone may see it: no reporter identity, no internal notes, no submitter contact."""
    status = wf.open311_status(report.status)
    category = report.category
    return {
        "service_request_id": report.id,
        "status": status,
        "status_notes": _status_notes(report),
        "service_name": category.name_en if current_language() == "en" else category.name,
        "service_code": report.category_code,
        "description": report.description,
        "agency_responsible": agencies.get(report.agency_code, report.agency_code),
        "service_notice": None,
        "requested_datetime": report.created_at,
        "updated_datetime": report.updated_at,
        "expected_datetime": report.sla_due_at if status == "open" else None,
        "address": report.address,
        "address_id": submission.address_id if submission is not None else None,
        "zipcode": None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": _media_url(report),
    }


def submitted_item(submitted) -> dict:
    """POST requests' answer: the id (the report exists at once) and the token, which also finds it later."""
    return {
        "service_request_id": submitted.report.id,
        "token": submitted.token,
        "service_notice": submitted.notice,
        "account_id": submitted.account_id,
    }


def token_item(submission) -> dict:
    return {"service_request_id": submission.report_id, "token": submission.token}


def discovery(base_url: str, contact: str, key_service: str, production: bool, changeset: datetime) -> dict:
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": Repeated(
            "endpoint",
            [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base_url,
                    "changeset": changeset,
                    "type": "production" if production else "test",
                    "formats": Repeated("format", ["text/xml", "application/json"]),
                }
            ],
        ),
    }
