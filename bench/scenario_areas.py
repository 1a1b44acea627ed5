"""Areas: import with outlines, the map layers and lists through gunicorn, the names lookup, HEIC vs JPEG photos."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from bench.util import ROOT, flask, fresh_pg_database, gunicorn, load

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
DATABASE = os.environ.get("BENCH_AREAS_DB", "bench_areas")
PORT = int(os.environ.get("BENCH_AREAS_PORT", "0")) or None
INSTANCE = os.path.join(tempfile.gettempdir(), "jaki-bench-areas")
AREAS_FILE = "jakarta_kelurahan.geojson"


def _child(function: str, env: dict) -> dict:
    """Run bench.scenario_areas.<function>() in a fresh interpreter (settings come from the environment)."""
    out = subprocess.run(
        [sys.executable, "-c", f"import json, bench.scenario_areas as s; print(json.dumps(s.{function}()))"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _timed(function, repeat: int) -> dict:
    import statistics
    import time

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return {
        "runs": repeat,
        "median_ms": round(statistics.median(times) * 1000, 2),
        "max_ms": round(max(times) * 1000, 2),
    }


def import_areas() -> dict:
    """In the child: the import of 267 kelurahan, then deriving and storing every outline (first and again)."""
    import time
    from pathlib import Path

    from config import get_config
    from jaki import create_app
    from jaki.geo.operations import import_areas as load_areas
    from jaki.geo.outlines import store_outlines

    app = create_app(get_config("development"))
    with app.app_context():
        path = Path(app.config["SHARED_DATA_DIR"]) / AREAS_FILE
        started = time.perf_counter()
        load_areas(path)
        imported = time.perf_counter()
        first = store_outlines()
        stored = time.perf_counter()
        again = store_outlines()
        unchanged = time.perf_counter()
    return {
        "import_seconds": round(imported - started, 3),
        "outlines_first_seconds": round(stored - imported, 3),
        "outlines_first": first,
        "outlines_again_seconds": round(unchanged - stored, 3),
        "outlines_again": again,
    }


def names_lookup() -> dict:
    """In the child: what the names beside a page of reports cost, once per request (all 318 areas)."""
    from config import get_config
    from jaki import create_app
    from jaki.geo.queries import area_names

    app = create_app(get_config("development"))

    def one_request():
        with app.test_request_context():
            assert len(area_names()) == 318

    one_request()
    return _timed(one_request, 300)


def photos() -> dict:
    """In the child: sanitising a 12 MP photo (4032 x 3024, an iPhone's default) as HEIC and as JPEG."""
    import io

    import pillow_heif
    from PIL import Image, ImageFilter

    from jaki.media.images import sanitize_photo

    pillow_heif.register_heif_opener()
    image = Image.radial_gradient("L").resize((4032, 3024)).filter(ImageFilter.GaussianBlur(2))
    image = Image.merge(
        "RGB", (image, image.rotate(90, expand=False), image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    )
    encoded = {}
    for fmt, params in (("HEIF", {"quality": 80}), ("JPEG", {"quality": 90})):
        buffer = io.BytesIO()
        image.save(buffer, fmt, **params)
        encoded[fmt] = buffer.getvalue()
    result = {}
    for fmt, data in encoded.items():
        result[fmt.lower()] = {"bytes": len(data), **_timed(lambda data=data: sanitize_photo(data), 5)}
    return result


def run() -> dict:
    url = fresh_pg_database(DATABASE)
    env = {
        **os.environ,
        "JAKI_ENV": "development",
        "JAKI_RATELIMIT_ENABLED": "0",
        "JAKI_LOG_LEVEL": "WARNING",
        "FLASK_APP": "wsgi.py",
        "JAKI_INSTANCE_DIR": INSTANCE,
    }
    env.pop("REDIS_URL", None)
    if url:
        env["DATABASE_URL"] = url
    else:
        import shutil

        shutil.rmtree(INSTANCE, ignore_errors=True)
    flask(["db", "upgrade", "heads"], env)
    imported = _child("import_areas", env)
    names = _child("names_lookup", env)
    photo = _child("photos", env)

    cores = os.cpu_count() or 1
    paths = {
        "layer_kelurahan": "/api/v1/areas.geojson?level=kelurahan",
        "layer_kecamatan": "/api/v1/areas.geojson?level=kecamatan",
        "layer_kota": "/api/v1/areas.geojson?level=kota",
        "list_all": "/api/v1/areas",
        "list_kelurahan_of_kecamatan": "/api/v1/areas?parent=31.74.05",
        "detail_kelurahan": "/api/v1/areas/31.74.05.1002",
    }
    http = {}
    with gunicorn(env, workers=cores, port=PORT) as base:
        import httpx

        for name, path in paths.items():

            def get(client, _i, path=path):
                return client.get(base + path).status_code == 200

            load(get, concurrency=cores, seconds=1)  # warm-up
            result = load(get, concurrency=cores * 2, seconds=SECONDS / len(paths) * 2)
            result["bytes"] = len(httpx.get(base + path).content)
            http[name] = result
    return {
        "database": "postgresql" if url else "sqlite",
        "import": imported,
        "http": http,
        "names_per_request": names,
        "sanitize_12mp": photo,
        "note": "load driver shares the same cores as gunicorn; layers are served uncompressed (a CDN or proxy"
        " gzips them)",
    }
