"""/openapi.json as a contract: valid OpenAPI, complete, and honoured by every answer (schemathesis, bounded)."""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jaki.auth.models import User
from jaki.extensions import db
from jaki.notifications import operations as notifications
from jaki.open311 import operations as open311
from jaki.services.demo import seed_reference
from jaki.services.permits import operations as permits
from tests.factories import auth_header, make_user
from tests.reports.factories import agency_admin, make_report, officer, seed_categories
from tests.support.fixtures import areas, photo_storage, unlimited  # noqa: F401 - polygons, photos, no 429s

METHODS = ("get", "post", "put", "patch", "delete")
# Bounded so that each CI pass stays within minutes: examples per operation, role and mode, one fixed seed.
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 3}
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


def _resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = spec["components"][kind][name]
    return node


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").get_json()


# ---- the document ------------------------------------------------------------------------------------------


def test_the_spec_is_valid_openapi(spec):
    validate(spec)
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }


def test_every_operation_has_a_unique_operation_id_named_after_its_view(spec, app):
    ids = [op.get("operationId") for _, _, op in operations(spec)]
    assert None not in ids and len(ids) == len(set(ids)) > 100
    assert all(re.fullmatch(r"[a-z0-9_]+", i) for i in ids), ids
    # Stable: made of the blueprint and view names (renaming a view is a breaking change for generated clients).
    endpoints = {rule.endpoint.replace(".", "_") for rule in app.url_map.iter_rules()}
    assert set(ids) <= endpoints | {f"{e}_{m}" for e in endpoints for m in METHODS}
    for known in ("reports_create", "reports_feed", "officer_reports_queue", "auth_login", "open311_create_request"):
        assert known in ids


def test_no_swagger_2_leftovers_and_every_form_field_is_in_its_request_body(spec):
    for method, path, op in operations(spec):
        assert all(p["in"] in ("query", "header", "path", "cookie") for p in op.get("parameters", [])), (method, path)
    create = spec["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert {"category", "description", "latitude", "longitude", "address", "anonymous", "force", "photos"} <= set(
        create["schema"]["properties"]
    )
    assert "image/heic" in create["encoding"]["photos"]["contentType"]
    for segment in ("permits", "letters"):
        upload = spec["paths"][f"/api/v1/me/{segment}/{{application_id}}/documents"]["post"]["requestBody"]
        form = upload["content"]["multipart/form-data"]
        assert set(form["schema"]["required"]) == {"kind", "file"}
        assert form["schema"]["properties"]["file"] == {
            "type": "string",
            "format": "binary",
            **{k: v for k, v in form["schema"]["properties"]["file"].items() if k == "description"},
        }
        assert "application/pdf" in form["encoding"]["file"]["contentType"]
    open311_post = spec["paths"]["/open311/v2/requests.{fmt}"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in open311_post


def test_every_answer_is_described(spec):
    """Each success has a schema (or a binary/empty body), each error the envelope (or Open311's document)."""
    envelope = {"$ref": "#/components/schemas/Error"}
    for method, path, op in operations(spec):
        responses = op["responses"]
        assert any(code.startswith("2") for code in responses), (method, path)
        for code, response in responses.items():
            response = _resolve(spec, response)
            if code in ("204", "304"):
                continue
            content = response.get("content")
            assert content, (method, path, code)
            for media, body in content.items():
                assert "schema" in body, (method, path, code, media)
            if code == "default" or code >= "400":
                if path.startswith("/open311/"):
                    assert content["application/json"]["schema"]["type"] == "array", (method, path, code)
                else:
                    assert content["application/json"]["schema"] == envelope, (method, path, code)
    map_ok = spec["paths"]["/api/v1/reports/map"]["get"]["responses"]["200"]["content"]
    assert list(map_ok) == ["application/geo+json"]


def test_signed_in_operations_and_only_they_declare_the_bearer_scheme_with_401_and_403(spec, client):
    """Asked without a token: an operation that answers 401 declares the scheme and its 401/403, and one that
    declares it (a token required) answers 401."""
    seen = Counter()
    for method, path, op in operations(spec):
        url = re.sub(r"\{fmt\}", "json", re.sub(r"\{\w+\}", str(uuid.UUID(int=5)), path))
        status = client.open(url, method=method.upper(), json={} if method != "get" else None).status_code
        db.session.remove()
        security = op.get("security")
        required = security == [{"bearerAuth": []}]
        if status == 401:
            assert security, (method, path)
        if required:
            seen["signed in"] += 1
            assert status == 401, (method, path, status)
            assert {"401", "403"} <= set(op["responses"]), (method, path)
        elif security:
            seen["optional"] += 1
            assert security == [{}, {"bearerAuth": []}] and "401" in op["responses"]
        else:
            seen["public"] += 1
    assert seen["signed in"] > 70 and seen["public"] > 15 and seen["optional"] >= 3, seen


def test_writes_document_their_conflicts_preconditions_and_rate_limits(spec):
    transition = spec["paths"]["/api/v1/reports/{report_id}/transitions"]["post"]["responses"]
    assert {"409", "412", "428"} <= set(transition)
    for path in ("/api/v1/auth/login", "/api/v1/reports", "/api/v1/me/social-aid/eligibility"):
        assert "429" in spec["paths"][path]["post"]["responses"], path
    assert "429" not in spec["paths"]["/api/v1/me"]["get"]["responses"]


def test_every_create_takes_an_idempotency_key_and_says_where_it_put_the_thing(spec):
    creates = 0
    for method, path, op in operations(spec):
        created = {"201", "202"} & set(op["responses"])
        if method != "post" or not created or "security" not in op:
            continue
        creates += 1
        names = {p["name"] for p in op.get("parameters", [])}
        assert "Idempotency-Key" in names, path
        for code in created:
            assert "Location" in op["responses"][code].get("headers", {}), (path, code)
    assert creates >= 14
    open311_post = spec["paths"]["/open311/v2/requests.{fmt}"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in open311_post["parameters"]}


# ---- the answers -------------------------------------------------------------------------------------------


@pytest.fixture
def world(app):
    """Real objects behind the path ids and a token per role, so that answers are not only 404s."""
    seed_categories()
    seed_reference()
    citizen = make_user(home_kelurahan_code="31.74.05.1002")
    admin = make_user(role="admin")
    staff = officer(agency="DBM", areas=("31.74",))
    boss = agency_admin(areas=("31",))
    letter = permits.create(citizen, "letter", {"type_code": "SKD", "purpose": "Melamar pekerjaan"})
    permit = permits.create(
        citizen, "permit", {"type_code": "PBG", "object_address": "Jl. Contoh No. 1", "area_code": "31.74.05.1002"}
    )
    device = notifications.register_device(citizen, token="fcm-token-contract-0001", platform="android")
    broadcast = notifications.create_broadcast(admin, area_code="31.74.05.1002", title="Uji", body="Pesan uji")
    key, api_key = open311.create_key("Kontrak", admin)
    report = make_report(citizen)
    db.session.commit()
    return {
        "users": {"citizen": citizen.id, "officer": staff.id, "agency_admin": boss.id, "admin": admin.id},
        "api_key": api_key,
        "ids": {
            "report_id": report.id,
            "request_id": report.id,
            "application_id": {"letters": letter.id, "permits": permit.id},
            "device_id": device.id,
            "broadcast_id": broadcast.id,
            "item_id": broadcast.id,
            "key_id": key.id,
            "code": "jalan_rusak",
            "service_code": "jalan_rusak",
            "domain": "health",
            "fmt": "json",
        },
    }


def _who(role: str, path: str) -> str:
    if path.startswith("/api/v1/admin") or path.startswith("/api/v1/report-categories"):
        return "admin"
    return role


def _checker(app, strategy, examples, authorization, world):
    statuses = world.setdefault("statuses", Counter())

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        headers = {"Authorization": authorization()}
        if case.path.startswith("/open311/") and case.method == "POST" and isinstance(case.body, dict):
            case.body["api_key"] = world["api_key"]
        response = case.call(app=app, headers=headers)
        db.session.remove()
        statuses[response.status_code] += 1
        assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
        case.validate_response(response, checks=CHECKS, headers=headers)

    return check


def _run(app, spec, world, role: str) -> tuple[Counter, list[str]]:
    schema = schemathesis.openapi.from_dict(spec)
    failures = []

    def token(for_role):
        header = auth_header(db.session.get(User, world["users"][for_role]))
        db.session.commit()
        return header["Authorization"]

    for result in schema.get_all_operations():
        operation = result.ok()
        path = operation.path
        fixed = {}
        for name in re.findall(r"\{(\w+)\}", path):
            value = world["ids"].get(name)
            if isinstance(value, dict):
                value = value["letters" if "/letters" in path else "permits"]
            if value is not None:
                fixed[name] = value
        for mode, examples in EXAMPLES.items():
            strategy = operation.as_strategy(mode, path_parameters=fixed)
            check = _checker(app, strategy, examples, lambda p=path: token(_who(role, p)), world)
            try:
                check()
            except Unsatisfiable:
                continue  # nothing of this operation can be negated (no parameters, or all of them fixed)
            except Exception as error:  # noqa: BLE001 - every operation's failure is collected, then reported at once
                failures.append(f"{operation.label} ({mode.value}): {type(error).__name__}: {str(error)[:1500]}")
    return world["statuses"], failures


@pytest.mark.slow
@pytest.mark.usefixtures("unlimited")
@pytest.mark.parametrize("role", ["citizen", "officer"])
def test_schemathesis_finds_no_server_error_and_no_answer_outside_its_schema(app, client, spec, world, role):
    statuses, failures = _run(app, spec, world, role)
    assert failures == [], f"{len(failures)} operations broke the contract:\n" + "\n\n".join(failures)
    assert sum(statuses.values()) > 300, statuses
    assert sum(n for code, n in statuses.items() if code < 300) > 50, statuses


def test_a_view_that_checks_its_token_itself_is_documented_as_signed_in(app):
    from flask import jsonify

    from jaki.api import Blueprint, operation_facts

    blp = Blueprint("contract_probe", __name__)

    @blp.route("/probe", methods=["GET"])
    @blp.login_required_doc
    @blp.response(200)
    def probe():
        return jsonify({})

    assert operation_facts(probe)["auth"] == "required"
