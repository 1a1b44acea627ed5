"""One translation path: every code of the catalogue, and every error the API answers, in the language asked."""

import json
import re
import string
from collections import Counter

import pytest

from jaki.auth.models import User
from jaki.extensions import db
from jaki.i18n import MESSAGES, translate
from tests.factories import auth_header, make_user
from tests.reports.factories import agency_admin, make_report
from tests.support import hostile
from tests.support.fixtures import areas, photo_storage, unlimited  # noqa: F401 - polygons, photos, no 429s

# Words one language has and the other never uses in a sentence (names, codes and product terms aside).
ENGLISH = {
    "the", "is", "are", "not", "must", "please", "field", "valid", "invalid", "unknown", "missing", "required",
    "between", "least", "longer", "shorter", "greater", "less", "than", "should", "cannot", "your", "you",
    "this", "with", "and", "only", "already", "been", "has", "have", "was", "were", "too", "many", "try",
    "again", "wrong", "found", "allowed", "characters", "value", "values", "number", "may",
}  # fmt: skip
INDONESIAN = {
    "tidak", "yang", "harus", "wajib", "silakan", "dengan", "untuk", "sudah", "belum", "anda", "diisi",
    "karakter", "maksimal", "minimal", "antara", "berupa", "salah", "satu", "dari", "atau", "dan", "ini", "itu",
    "ada", "dapat", "coba", "lagi", "terlalu", "banyak", "sedang", "telah", "sebelum", "kembali", "nilai",
}  # fmt: skip
# "data", "email" and "valid" are Indonesian too; "Kartu Keluarga", "kelurahan", "cuti bersama" are names in English.
INDONESIAN_ALSO_SAYS = {"data", "email", "valid"}
_WORD = re.compile(r"[A-Za-z]+")


def leaks(text: str, language: str) -> set[str]:
    words = {w.lower() for w in _WORD.findall(text)}
    if language == "id":
        return (words & ENGLISH) - INDONESIAN_ALSO_SAYS
    return words & INDONESIAN


def _params(template: str) -> dict:
    return {name: "7" for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_code_of_the_catalogue_says_it_in_both_languages_without_a_leak(app):
    found = []
    for code, (indonesian, english) in MESSAGES.items():
        assert indonesian.strip() and english.strip(), code
        for language, template in (("id", indonesian), ("en", english)):
            text = translate(code, language, **_params(template))
            if leaks(text, language):
                found.append(f"{code} [{language}]: {text!r} {sorted(leaks(text, language))}")
    assert found == [], "\n".join(found)
    assert len(MESSAGES) > 150  # every domain's catalogue (create_app imported them all)


def _messages(body: bytes, path: str) -> list[str]:
    """Every human text of an error answer: the envelope's message and field messages, or Open311's descriptions."""
    try:
        document = json.loads(body)
    except ValueError:
        return []
    texts = []
    if path.startswith("/open311/") and isinstance(document, list):
        return [item.get("description", "") for item in document if isinstance(item, dict)]
    if isinstance(document, dict):
        texts.append(document.get("message", ""))

        def walk(node):
            if isinstance(node, str):
                texts.append(node)
            elif isinstance(node, dict):
                for key, value in node.items():
                    if key != "duplicates":  # data (reports nearby), not messages
                        walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(document.get("errors"))
    return texts


# Per operation, a sample of the malformed corpus (bodies, fields, query values): enough to meet every kind of
# marshmallow, webargs, werkzeug and jaki error, in a fraction of the corpus's time.
SAMPLE = 8


@pytest.mark.usefixtures("unlimited")
def test_every_error_the_api_answers_is_in_the_language_asked(app, client):
    citizen = make_user(home_kelurahan_code="31.74.05.1002")
    users = {"citizen": citizen, "staff": agency_admin(areas=("31",)), "admin": make_user(role="admin")}
    report = make_report(citizen)
    db.session.commit()
    user_ids = {role: user.id for role, user in users.items()}
    ids = {"report_id": report.id, "request_id": report.id, "code": "jalan_rusak", "service_code": "jalan_rusak"}

    def token(role):
        header = auth_header(db.session.get(User, user_ids[role]))
        db.session.commit()
        return header["Authorization"].split(" ", 1)[1]

    spec = client.get("/openapi.json").get_json()
    by_operation = {}
    for case in hostile.cases(spec, hostile.Context(token=token, ids=ids)):
        by_operation.setdefault(" ".join(case.label.split(" ")[:2]), []).append(case)
    found, codes, answered = [], Counter(), 0
    for cases in by_operation.values():
        step = max(len(cases) // SAMPLE, 1)
        for case in cases[::step][:SAMPLE]:
            for language in ("id", "en"):
                headers = dict(case.headers)
                content_type = headers.pop("Content-Type", None)
                headers["Accept-Language"] = language
                response = client.open(
                    case.path,
                    method=case.method,
                    query_string=case.query,
                    headers=headers,
                    data=case.body,
                    content_type=content_type,
                )
                db.session.remove()
                if response.status_code < 400:
                    continue
                answered += 1
                body = response.get_json(silent=True)
                if isinstance(body, dict):
                    codes[body.get("code")] += 1
                for text in _messages(response.get_data(), case.path):
                    if leaks(text, language):
                        found.append(f"{case.label} [{language}]: {text!r}")
    assert answered > 1000 and len(codes) > 15, (answered, codes)
    assert found == [], f"{len(found)} messages in the wrong language:\n" + "\n".join(sorted(set(found))[:200])
