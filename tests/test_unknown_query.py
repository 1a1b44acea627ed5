"""Unknown query parameters are refused with 422 naming them, on every operation (Open311 ignores them by its spec)."""

import re
import uuid

from tests.factories import auth_header, make_user

METHODS = ("get", "post", "put", "patch", "delete")


def test_a_typo_in_a_query_parameter_is_refused_not_ignored(client, ctx):
    refused = client.get("/api/v1/reports?categories=banjir")
    assert refused.status_code == 422 and refused.json["code"] == "validation_error"
    assert refused.json["errors"] == {"categories": ["Parameter tidak dikenal."]}
    english = client.get("/api/v1/reports?categories=banjir&stauts=x", headers={"Accept-Language": "en"})
    assert english.json["errors"] == {
        "categories": ["Unknown query parameter."],
        "stauts": ["Unknown query parameter."],
    }
    assert client.get("/api/v1/reports?category=banjir").status_code == 200
    # A view that takes no query parameters takes none.
    assert client.get("/api/v1/report-categories?lang=en").status_code == 422


def test_every_operation_refuses_what_it_does_not_document(client, ctx):
    spec = client.get("/openapi.json").get_json()
    header = auth_header(make_user(role="admin"))
    checked = 0
    for path, item in spec["paths"].items():
        if path.startswith("/open311/"):
            continue
        for method, op in item.items():
            if method not in METHODS:
                continue
            documented = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            assert "zz_typo" not in documented
            url = re.sub(r"\{\w+\}", str(uuid.UUID(int=11)), path)
            response = client.open(f"{url}?zz_typo=1", method=method.upper(), headers=header)
            assert response.status_code == 422, (method, path, response.status_code)
            assert "zz_typo" in response.json["errors"], (method, path)
            checked += 1
    assert checked > 100


def test_open311_still_ignores_vendor_extensions(client, ctx):
    response = client.get("/open311/v2/services.json?vendor_extension=1")
    assert response.status_code == 200
