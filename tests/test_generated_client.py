"""A Python client generated from /openapi.json (openapi-python-client) builds and works against the app."""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from jaki.extensions import db
from tests.factories import PASSWORD, make_user
from tests.reports.factories import make_report, png_bytes, seed_categories
from tests.support.fixtures import areas, photo_storage  # noqa: F401 - reports need polygons and photo storage

PACKAGE = "jaki_generated_client"
BIN = Path(sys.executable).parent
# The generator cannot type a binary answer offered in several media types: those five operations return the raw
# bytes (response.content) instead of a parsed value, which is what a file download is anyway.
BINARY_DOWNLOADS = 5


@pytest.fixture(scope="module")
def generated(app, tmp_path_factory):
    spec_file = tmp_path_factory.mktemp("spec") / "openapi.json"
    spec_file.write_text(json.dumps(app.test_client().get("/openapi.json").get_json()))
    out = tmp_path_factory.mktemp("client")
    command = [str(BIN / "openapi-python-client"), "generate", "--path", str(spec_file), "--meta", "none"]
    run = subprocess.run(  # noqa: S603 - the pinned generator from this venv, on a file we wrote
        [*command, "--output-path", str(out / PACKAGE)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},  # its ruff post-hook
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    output = run.stdout + run.stderr
    warnings = [line for line in output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == BINARY_DOWNLOADS and all("/documents/" in w or "/photos/" in w for w in warnings), warnings
    assert "Error" not in output, output
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(package, dotted: str):
    return importlib.import_module(f"{package.__name__}.{dotted}")


def test_a_generated_client_signs_in_files_a_report_and_reads_it_back(app, client, generated):
    seed_categories()
    make_report(description="Lampu jalan padam sejak kemarin malam")
    user = make_user(home_kelurahan_code="31.74.05.1002")
    nik = user.nik
    db.session.commit()
    transport = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://jaki.test")
    public = generated.Client(base_url="http://jaki.test").set_httpx_client(transport)

    listed = _module(generated, "api.areas.areas_list_areas").sync(client=public)
    assert len(listed.items) > 300 and {a.code for a in listed.items} >= {"31", "31.74.05.1002"}
    login = _module(generated, "models.login").Login(nik=nik, password=PASSWORD)
    pair = _module(generated, "api.auth.auth_login").sync(client=public, body=login)
    assert pair.access_token and pair.refresh_token

    signed_in = generated.AuthenticatedClient(base_url="http://jaki.test", token=pair.access_token)
    signed_in.set_httpx_client(
        httpx.Client(
            transport=httpx.WSGITransport(app=app),
            base_url="http://jaki.test",
            headers={"Authorization": f"Bearer {pair.access_token}"},
        )
    )
    me = _module(generated, "api.me.me_get_me").sync(client=signed_in)
    assert me.id == user.id

    types = _module(generated, "types")
    body = _module(generated, "models.reports_create_body").ReportsCreateBody(
        category="jalan_rusak",
        description="Jalan berlubang besar di depan sekolah",
        latitude=-6.2710,
        longitude=106.7770,
        force=True,
        photos=[types.File(payload=io.BytesIO(png_bytes()), file_name="lubang.png", mime_type="image/png")],
    )
    create = _module(generated, "api.reports.reports_create")
    made = create.sync_detailed(client=signed_in, body=body, idempotency_key="generated-client-0001")
    assert made.status_code == 201, made.content
    report = made.parsed
    assert report.kelurahan_code == "31.74.05.1002" and len(report.photos) == 1
    assert made.headers["Location"] == f"/api/v1/me/reports/{report.id}"
    body.photos[0].payload.seek(0)
    again = create.sync_detailed(client=signed_in, body=body, idempotency_key="generated-client-0001")
    assert again.status_code == 201 and again.parsed.id == report.id and again.headers["Idempotent-Replayed"] == "true"

    detail = _module(generated, "api.reports.reports_detail").sync(client=public, report_id=report.id)
    assert detail.reference == "LAP-" + report.id[:8].upper() and detail.kelurahan_name == "Pondok Pinang"
    feed = _module(generated, "api.reports.reports_feed").sync(client=public)
    assert report.id in {item.id for item in feed.items}
    # An error comes back as the envelope's model, in the language asked.
    missing = _module(generated, "api.reports.reports_detail").sync(client=public, report_id="tidak-ada")
    assert missing.code == "not_found" and missing.status == 404
