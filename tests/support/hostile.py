"""A corpus of malformed requests built from /openapi.json, and the check that every answer is a proper error.

Used by tests/test_hostile_input.py (through the Flask test client) and by hand against a running server
(`python -m tests.support.hostile http://127.0.0.1:5000` after `make run`: it signs in as the demo accounts).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

# ---- the corpus -------------------------------------------------------------------------------------------

BIG_INT = "1" + "0" * 5000
DEEP_LIST = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000

# Raw JSON text put in place of one property's value.
JSON_VALUES = {
    "5000-digit int": BIG_INT,
    "5000-digit float": BIG_INT + ".5",
    "1e400": "1e400",
    "-1e400": "-1e400",
    "NaN literal": "NaN",
    "Infinity literal": "-Infinity",
    "int64+1": "9223372036854775808",
    "int32+1": "2147483648",
    "negative": "-1",
    "float": "1.5",
    "true": "true",
    "null": "null",
    "list": "[]",
    "object": "{}",
    "deep list": DEEP_LIST,
    "deep object": DEEP_OBJECT,
    "NUL": '"\\u0000"',
    "NUL inside": '"Jalan\\u0000rusak"',
    "lone surrogate": '"\\ud800"',
    "lone low surrogate": '"a\\udc00b"',
    "empty": '""',
    "blank": '"   "',
    "overlong": json.dumps("x" * 20_000),
    "overlong email": json.dumps("a" * 300 + "@example.id"),
    "bad date": '"2026-02-30"',
    "list of NUL": '["\\u0000"]',
    "object with NUL key": '{"\\u0000": true}',
}

# Whole bodies for a JSON operation: (label, content type, bytes).
JSON_BODIES = [
    ("empty body", "application/json", b""),
    ("truncated", "application/json", b'{"a": '),
    ("invalid UTF-8", "application/json", b'{"a": "\xff\xfe"}'),
    ("invalid UTF-8 bytes", "application/json", b"\xff\xfe\xfd"),
    ("UTF-16", "application/json", '{"a": "b"}'.encode("utf-16")),
    ("top-level list", "application/json", b"[1, 2]"),
    ("top-level string", "application/json", b'"x"'),
    ("top-level number", "application/json", BIG_INT.encode()),
    ("top-level NaN", "application/json", b"NaN"),
    ("top-level null", "application/json", b"null"),
    ("deep nesting", "application/json", ("[" * 100_000 + "]" * 100_000).encode()),
    ("deep nesting unbalanced", "application/json", b"[" * 200_000),
    ("2 MB of JSON", "application/json", b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}'),
    ("NUL key", "application/json", b'{"\\u0000": 1}'),
    ("text/plain", "text/plain", b'{"a": 1}'),
    ("form", "application/x-www-form-urlencoded", b"a=%00&b=%FF"),
    ("multipart without boundary", "multipart/form-data", b"--x\r\n\r\n"),
    ("latin-1 charset", "application/json; charset=latin-1", b'{"a": "\xe9"}'),
    ("unknown charset", "application/json; charset=klingon", b'{"a": 1}'),
    ("garbage content type", "\x00/\xff", b"{}"),
]

# Raw (already percent-encoded) values for one query parameter.
QUERY_VALUES = {
    "NUL": "%00",
    "NUL inside": "a%00b",
    "invalid UTF-8": "%FF%FE",
    "encoded surrogate": "%ED%A0%80",
    "bad escape": "%zz%",
    "overlong": "x" * 5000,
    "5000-digit": BIG_INT,
    "empty": "",
    "negative": "-1",
    "nan": "nan",
    "inf": "inf",
    "1e309": "1e309",
    "int64+1": "9223372036854775808",
    "brackets": "%5B%5D",
    "comma soup": "," * 500,
}

# Raw (percent-encoded) replacements for one path segment.
PATH_VALUES = {
    "NUL": "%00",
    "NUL inside": "abc%00def",
    "invalid UTF-8": "%FF%FE",
    "encoded surrogate": "%ED%A0%80",
    "overlong": "x" * 3000,
    "negative": "-1",
    "zero": "0",
    "huge int": "9" * 40,
    "float": "1.5",
    "space": "%20",
    "dots": "..",
    "not a uuid": "not-a-uuid",
    "uuid": str(uuid.UUID(int=1)),
}

HEADER_VALUES = {
    "NUL": "\x00",
    "NUL inside": "alasan\x00rahasia",
    "overlong": "x" * 10_000,
    "empty": "",
    "latin-1": "\xe9\xff",
    "blank": "   ",
    "control": "\x1b[31m",
}

# Field values that pass the schemas (names the spec gives no usable example for), so that a malformed
# value of one field is not hidden behind missing others.
GOOD_VALUES = {
    "code": "123456",
    "password": "salah-salah-salah",  # never the right one: a password change must not end the run's sessions
    "current_password": "salah-salah-salah",
    "new_password": "kata-sandi-baru-2026",
    "phone": "081234567890",
    "token": "fcm-token-abcdefgh-0123",
    "previous_token": "fcm-token-abcdefgh-0122",
    "locale": "id",
    "period": "2026-01",
    "amount": 100000,
    "score": 4,
    "latitude": -6.271,
    "longitude": 106.777,
    "lat": -6.271,
    "lon": 106.777,
    "long": 106.777,
    "radius": 500,
    "bbox": "106.7,-6.3,106.9,-6.1",
    "area_code": "31.74.05.1002",
    "kelurahan_code": "31.74.05.1002",
    "home_kelurahan_code": "31.74.05.1002",
    "preferences": {"report.supported": False},
    "category": "jalan_rusak",
    "description": "Jalan berlubang besar di depan sekolah",
    "full_name": "Warga Jakarta",
    "name": "Klien Open311",
    "name_en": "Open311 client",
    "reason": "Verifikasi laporan warga",
    "body": "Mohon segera ditindaklanjuti",
    "title": "Peringatan banjir",
    "object_address": "Jl. Contoh No. 1",
    "purpose": "Melamar pekerjaan",
}

# Form fields the spec does not describe (flask-smorest documents only the files of a multipart body; Open311
# is form-encoded by its own standard), by operation.
FORM_FIELDS = {
    ("POST", "/api/v1/reports"): ["category", "description", "latitude", "longitude", "address", "anonymous", "force"],
    ("POST", "/open311/v2/requests.{fmt}"): [
        "api_key",
        "service_code",
        "lat",
        "long",
        "address_string",
        "email",
        "phone",
        "first_name",
        "description",
        "media_url",
        "attribute[a]",
    ],
}
FILE_FIELDS = {
    ("POST", "/api/v1/reports"): "photos",
    ("POST", "/api/v1/officer/reports/{report_id}/evidence"): "photos",
    ("POST", "/api/v1/me/permits/{application_id}/documents"): "file",
    ("POST", "/api/v1/me/letters/{application_id}/documents"): "file",
}
OPEN311_QUERY = {
    ("GET", "/open311/v2/requests.{fmt}"): [
        "service_request_id",
        "service_code",
        "start_date",
        "end_date",
        "status",
        "page",
        "page_size",
        "jurisdiction_id",
    ]
}
FORM_VALUES = {
    "NUL": "%00",
    "NUL inside": "Jalan%00rusak",
    "invalid UTF-8": "%FF%FE",
    "encoded surrogate": "%ED%A0%80",
    "overlong": "x" * 20_000,
    "5000-digit": BIG_INT,
    "empty": "",
    "nan": "nan",
    "inf": "inf",
}


@dataclass(frozen=True)
class Case:
    label: str
    method: str
    path: str  # percent-encoded, without the query
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    role: str | None = None

    @property
    def url(self) -> str:
        return self.path + ("?" + self.query if self.query else "")


@dataclass
class Context:
    """What the corpus needs of the server it runs against: a token per role and ids that exist."""

    token: Callable[[str], str | None]  # role (citizen, staff, admin) -> an access token, asked for each case
    ids: dict[str, str] = field(default_factory=dict)  # path parameter name -> an existing id
    values: dict[str, object] = field(default_factory=dict)  # field name -> a good value (e.g. a real api_key)

    def headers_for(self, role: str | None) -> tuple[tuple[str, str], ...]:
        token = self.token(role) if role else None
        return (("Authorization", f"Bearer {token}"),) if token else ()


def role_for(method: str, path: str) -> str:
    """Who is let through to an operation's validation: the admin for /admin and category changes, staff for
    /officer, the citizen elsewhere (public operations ignore the token)."""
    if path.startswith("/api/v1/admin") or (path.startswith("/api/v1/report-categories") and method != "GET"):
        return "admin"
    if path.startswith("/api/v1/officer"):
        return "staff"
    return "citizen"


def _resolve(spec: dict, schema: dict | None) -> dict:
    while schema and "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema or {}


def _good(name: str, schema: dict, values: dict):
    if name in values:
        return values[name]
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    if fmt == "date":
        return "2026-01-15"
    if fmt == "date-time":
        return "2026-01-15T08:00:00+07:00"
    if fmt == "email":
        return "warga@example.id"
    if fmt == "uuid":
        return str(uuid.UUID(int=7))
    return "contoh teks isian" if schema.get("minLength", 0) > 3 else "abc"


def _json_object(items: dict[str, str]) -> bytes:
    return ("{" + ", ".join(f"{json.dumps(k)}: {raw}" for k, raw in items.items()) + "}").encode()


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), quote(str(uuid.UUID(int=3)))), template)


def cases(spec: dict, context: Context) -> Iterator[Case]:
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            yield from _operation_cases(spec, context, method.upper(), template, op)
    yield from _protocol_cases(context)


def _operation_cases(spec, context: Context, method: str, template: str, op: dict) -> Iterator[Case]:
    role = role_for(method, template)
    auth = context.headers_for(role)
    key = (method, template)
    params = op.get("parameters", [])
    path_names = re.findall(r"\{(\w+)\}", template)
    good_path = {
        name: ("json" if name == "fmt" else quote(context.ids.get(name, str(uuid.UUID(int=3))))) for name in path_names
    }
    path = _fill(template, good_path)
    body_schema = _resolve(spec, op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"))
    props = body_schema.get("properties", {})
    required = set(body_schema.get("required", []))
    values = {**GOOD_VALUES, **context.values}
    good_body = {
        name: json.dumps(_good(name, _resolve(spec, props[name]), values)) for name in props if name in required
    }
    json_headers = (*auth, ("Content-Type", "application/json"))
    base_body = _json_object(good_body) if body_schema else None

    def case(label, **kwargs):
        kwargs.setdefault("headers", json_headers if base_body is not None else auth)
        kwargs.setdefault("body", base_body)
        kwargs.setdefault("path", path)
        return Case(f"{method} {template} {label}", method, role=role, **kwargs)

    # Bad path segments, with an otherwise good request.
    for name in path_names:
        if name == "fmt":
            continue
        for label, raw in PATH_VALUES.items():
            yield case(f"path {name}={label}", path=_fill(template, {**good_path, name: raw}))
    # Each body property malformed in turn; unknown properties.
    for name in props:
        for label, raw in JSON_VALUES.items():
            yield case(f"json {name}={label}", body=_json_object({**good_body, name: raw}))
    if body_schema:
        for label, raw in (("unknown NUL", '"\\u0000"'), ("unknown deep", DEEP_LIST)):
            yield case(f"json extra={label}", body=_json_object({**good_body, "zz_extra": raw}))
        for label, content_type, body in JSON_BODIES:
            yield case(f"body {label}", headers=(*auth, ("Content-Type", content_type)), body=body)
    # Query parameters.
    query_names = [p["name"] for p in params if p.get("in") == "query"] + OPEN311_QUERY.get(key, [])
    for name in query_names:
        for label, raw in QUERY_VALUES.items():
            yield case(f"query {name}={label}", query=f"{quote(name)}={raw}")
        yield case(f"query {name} repeated", query=f"{name}=1&{name}=2&{name}=%00")
    if query_names:
        yield case("query unknown", query="zz%00=1&%FF=%FF")
    # Headers the operation documents (X-Access-Reason, If-Match, Idempotency-Key).
    for name in [p["name"] for p in params if p.get("in") == "header"]:
        for label, value in HEADER_VALUES.items():
            yield case(
                f"header {name}={label}",
                headers=((*json_headers,) if base_body is not None else auth) + ((name, value),),
            )
    # Form fields (multipart or urlencoded) and files.
    form_names = FORM_FIELDS.get(key, []) + [p["name"] for p in params if p.get("in") == "formData"]
    file_field = FILE_FIELDS.get(key)
    if form_names or file_field:
        yield from _form_cases(case, auth, form_names, file_field, values)


def _multipart(fields: list[tuple[str, bytes]], files: list[tuple[str, str, bytes]]) -> tuple[str, bytes]:
    boundary = "jakiCorpusBoundary7MA4YWxk"
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value)
    for name, filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        )
        parts.append(head.encode("utf-8", "surrogatepass") + data)
    body = b"\r\n".join(parts) + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def _unquote_bytes(raw: str) -> bytes:
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw.encode())


def _form_cases(case: Callable, auth, form_names: list[str], file_field: str | None, values: dict) -> Iterator[Case]:
    good = {name: str(values.get(name, "abc")).encode() for name in form_names}
    if "kind" in good:
        good["kind"] = b"ktp"
    files = [(file_field, "foto.jpg", b"\xff\xd8\xff\xe0not really a jpeg")] if file_field else []
    for name in form_names:
        for label, raw in FORM_VALUES.items():
            fields = list({**good, name: _unquote_bytes(raw)}.items())
            content_type, body = _multipart(fields, files)
            yield case(f"form {name}={label}", headers=(*auth, ("Content-Type", content_type)), body=body)
            urlencoded = "&".join(f"{quote(k)}={quote(v)}" for k, v in good.items() if k != name)
            urlencoded += f"&{quote(name)}={raw}"
            yield case(
                f"urlencoded {name}={label}",
                headers=(*auth, ("Content-Type", "application/x-www-form-urlencoded")),
                body=urlencoded.encode(),
            )
    if file_field:
        fields = list(good.items())
        for label, file_list in {
            "empty file": [(file_field, "kosong.jpg", b"")],
            "NUL in file name": [(file_field, "a\x00b.jpg", b"\xff\xd8\xff")],
            "surrogate in file name": [(file_field, "a\udc80.jpg", b"\xff\xd8\xff")],
            "overlong file name": [(file_field, "x" * 5000 + ".jpg", b"\xff\xd8\xff")],
            "garbage image": [(file_field, "foto.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)],
            "twenty files": [(file_field, f"f{n}.jpg", b"\xff\xd8\xff") for n in range(20)],
        }.items():
            content_type, body = _multipart(fields, file_list)
            yield case(f"file {label}", headers=(*auth, ("Content-Type", content_type)), body=body)
        content_type, _ = _multipart([], [])
        yield case("multipart truncated", headers=(*auth, ("Content-Type", content_type)), body=b"--jakiCorpus")
        yield case("multipart as JSON", headers=(*auth, ("Content-Type", "application/json")), body=b'{"photos": []}')


def _protocol_cases(context: Context) -> Iterator[Case]:
    """Requests no operation documents: unknown routes and methods, odd Accept-Language and Authorization."""
    citizen = context.headers_for("citizen")
    for label, path in {
        "unknown route": "/api/v1/nothing-here",
        "unknown route with NUL": "/api/v1/%00",
        "unknown route invalid UTF-8": "/api/v1/%FF",
        "root": "/",
        "overlong path": "/api/v1/" + "x" * 5000,
        "open311 unknown": "/open311/v2/nothing.json",
        "open311 unknown format": "/open311/v2/services.yaml",
    }.items():
        yield Case(label, "GET", path)
    yield Case("method not allowed", "DELETE", "/api/v1/auth/login")
    yield Case("method not allowed open311", "DELETE", "/open311/v2/services.json")
    yield Case("odd method", "PROPFIND", "/api/v1/me", headers=citizen)
    for label, value in {
        "NUL": "\x00",
        "overlong": "id;q=0.5," * 2000,
        "bad q": "en;q=abc, id;q=-1",
        "latin-1": "\xe9\xff",
    }.items():
        yield Case(f"Accept-Language {label}", "GET", "/api/v1/me", headers=(*citizen, ("Accept-Language", value)))
    for label, value in {
        "NUL": "Bearer \x00",
        "overlong": "Bearer " + "x" * 20_000,
        "three parts of junk": "Bearer a.b.c",
        "latin-1": "Bearer \xe9\xff.\xe9.\xe9",
        "two tokens": "Bearer a, Bearer b",
    }.items():
        yield Case(f"Authorization {label}", "GET", "/api/v1/me", headers=(("Authorization", value),))


# ---- the check --------------------------------------------------------------------------------------------


def problem(case: Case, status: int, content_type: str, body: bytes) -> str | None:
    """None when the answer is acceptable: below 500, and an error in the one envelope (Open311's own error
    document under /open311)."""
    if status >= 500:
        return f"{status}"
    if status < 400:
        return None
    mimetype = (content_type or "").split(";")[0].strip().lower()
    # A request line or header block the HTTP server refuses (414, 431) never reaches Open311's handlers: the server
    # answers in jaki's envelope whatever the path.
    if case.path.startswith("/open311/") and status not in (414, 431):
        if mimetype == "application/json":
            try:
                errors = json.loads(body)
            except ValueError:
                return f"{status} Open311 JSON error that is not JSON"
            if not (isinstance(errors, list) and errors and all({"code", "description"} <= set(e) for e in errors)):
                return f"{status} not an Open311 error document: {body[:120]!r}"
            return None
        if mimetype in ("text/xml", "application/xml") and b"<errors>" in body:
            return None
        return f"{status} {mimetype}: not an Open311 error document: {body[:120]!r}"
    if mimetype != "application/json":
        return f"{status} {mimetype}: outside the envelope: {body[:120]!r}"
    try:
        envelope = json.loads(body)
    except ValueError:
        return f"{status} broken JSON: {body[:120]!r}"
    if not (
        isinstance(envelope, dict)
        and isinstance(envelope.get("code"), str)
        and envelope.get("status") == status
        and isinstance(envelope.get("message"), str)
        and envelope["message"]
    ):
        return f"{status} not the envelope: {body[:160]!r}"
    return None


# ---- by hand, over HTTP ---------------------------------------------------------------------------------------

DEMO_LOGINS = {  # `flask demo seed` (README): a citizen, an agency admin of DBM, an admin
    "citizen": "3174054107900003",
    "staff": "3171014312870102",
    "admin": "3171010101800103",
}
DEMO_PASSWORD = "jakarta-demo-2026"


def replay_over_http(base_url: str) -> int:
    """Replay the corpus against a running server (run it with generous JAKI_*_RATE limits, or the rate limiter
    answers most of it). Prints the failures; returns how many there were."""
    import http.client
    from collections import Counter
    from urllib.parse import urlsplit

    url = urlsplit(base_url)

    def send(method, path, body=None, headers=()):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value.encode("latin-1"))
            connection.putheader("Content-Length", str(len(body or b"")))
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, response.getheader("Content-Type", ""), response.read()
        finally:
            connection.close()

    tokens: dict[str, str] = {}

    def token(role):
        if role not in tokens:
            login = json.dumps({"nik": DEMO_LOGINS[role], "password": DEMO_PASSWORD}).encode()
            status, _, body = send("POST", "/api/v1/auth/login", login, (("Content-Type", "application/json"),))
            if status != 200:
                raise SystemExit(f"login as the demo {role} failed: {status} {body[:200]!r}")
            tokens[role] = json.loads(body)["access_token"]
        return tokens[role]

    def create(role, path, payload) -> dict:
        headers = (("Content-Type", "application/json"), ("Authorization", f"Bearer {token(role)}"))
        status, _, body = send("POST", path, json.dumps(payload).encode(), headers)
        return json.loads(body) if status in (200, 201, 202) else {}

    # Real objects behind the path ids, so that malformed bodies reach the code that acts on them.
    spec = json.loads(send("GET", "/openapi.json")[2])
    feed = json.loads(send("GET", "/api/v1/reports?limit=1")[2])
    ids = {"code": "jalan_rusak", "service_code": "jalan_rusak", "domain": "health"}
    if feed.get("items"):
        ids["report_id"] = ids["request_id"] = feed["items"][0]["id"]
    letter = create("citizen", "/api/v1/me/letters", {"type_code": "SKD", "purpose": "Melamar pekerjaan"})
    device = create("citizen", "/api/v1/me/devices", {"token": "fcm-token-corpus-0001", "platform": "android"})
    broadcast = create("admin", "/api/v1/admin/broadcasts", {"area_code": "31", "title": "Uji", "body": "Uji korpus"})
    key = create("admin", "/api/v1/admin/open311/keys", {"name": "Korpus"})
    for name, found in (("application_id", letter), ("device_id", device), ("broadcast_id", broadcast)):
        if found.get("id"):
            ids[name] = found["id"]
    ids["item_id"] = ids.get("broadcast_id", "")
    if key.get("id"):
        ids["key_id"] = key["id"]
    statuses, failures = Counter(), []
    for case in cases(spec, Context(token=token, ids=ids, values={"api_key": key.get("key", "abc")})):
        try:
            status, content_type, body = send(case.method, case.url, case.body, case.headers)
        except (OSError, http.client.HTTPException, UnicodeEncodeError) as exc:
            failures.append(f"{case.label}: no answer ({type(exc).__name__})")
            continue
        statuses[status] += 1
        found = problem(case, status, content_type, body)
        if found:
            failures.append(f"{case.label}: {found}")
        if case.path.startswith(("/api/v1/auth/logout", "/api/v1/me/password")):
            tokens.pop(case.role, None)  # it may have ended that session
    print(json.dumps({"sent": sum(statuses.values()), "statuses": dict(sorted(statuses.items()))}))
    print(f"{len(failures)} wrong answers")
    for failure in failures[:100]:
        print(" ", failure)
    return len(failures)


if __name__ == "__main__":
    import sys

    sys.exit(1 if replay_over_http(sys.argv[1]) else 0)
