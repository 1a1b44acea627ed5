"""Every operation in /openapi.json against a corpus of malformed requests: no 5xx, every error in the envelope."""

from collections import Counter

import pytest

from jaki.auth.models import User
from jaki.extensions import db
from jaki.notifications import operations as notifications
from jaki.open311 import operations as open311
from jaki.services.demo import seed_reference
from jaki.services.permits import operations as permits
from tests.factories import auth_header, make_user
from tests.reports.factories import agency_admin, make_report
from tests.support import hostile
from tests.support.fixtures import areas, photo_storage, unlimited  # noqa: F401 - polygons, photos, no 429s


def _send(client, case: hostile.Case):
    headers = dict(case.headers)
    content_type = headers.pop("Content-Type", None)
    response = client.open(
        case.path,
        method=case.method,
        query_string=case.query,
        headers=headers,
        data=case.body,
        content_type=content_type,
    )
    result = response.status_code, response.headers.get("Content-Type", ""), response.get_data()
    # The session fixture's app context spans the whole test, so requests share one session; in production each
    # request ends with its own (Flask-SQLAlchemy removes it at teardown). Do the same here.
    db.session.remove()
    return result


@pytest.mark.usefixtures("unlimited")
def test_the_malformed_corpus_finds_no_5xx_and_nothing_outside_the_envelope(app, client):
    citizen = make_user(home_kelurahan_code="31.74.05.1002")
    users = {"citizen": citizen, "staff": agency_admin(areas=("31",)), "admin": make_user(role="admin")}
    # Real objects behind the path ids, so that malformed bodies reach the code that acts on them.
    seed_reference()  # agencies, aid programmes, permit and letter types
    letter = permits.create(citizen, "letter", {"type_code": "SKD", "purpose": "Melamar pekerjaan"})
    device = notifications.register_device(citizen, token="fcm-token-corpus-0001", platform="android")
    broadcast = notifications.create_broadcast(
        users["admin"], area_code="31.74.05.1002", title="Uji korpus", body="Pesan uji korpus masukan"
    )
    key, api_key = open311.create_key("Korpus", users["admin"])
    ids = {
        "report_id": make_report(citizen).id,
        "request_id": None,
        "application_id": letter.id,
        "device_id": device.id,
        "broadcast_id": broadcast.id,
        "item_id": broadcast.id,
        "key_id": key.id,
        "code": "jalan_rusak",
        "service_code": "jalan_rusak",
        "domain": "health",
    }
    ids["request_id"] = ids["report_id"]
    db.session.commit()
    user_ids = {role: user.id for role, user in users.items()}

    def token(role):
        # A fresh token for each case: an operation (logout, a password change) may end the previous one.
        header = auth_header(db.session.get(User, user_ids[role]))
        db.session.commit()
        return header["Authorization"].split(" ", 1)[1]

    spec = client.get("/openapi.json").get_json()
    context = hostile.Context(token=token, ids=ids, values={"api_key": api_key})
    failures, statuses, sent = [], Counter(), 0
    for case in hostile.cases(spec, context):
        status, content_type, body = _send(client, case)
        sent += 1
        statuses[status] += 1
        found = hostile.problem(case, status, content_type, body)
        if found:
            failures.append(f"{case.label}: {found}")
    assert sent > 3000, sent
    # The corpus got past the door: parsed (400), validated (422), routed (404), and some variants even succeeded;
    # the tokens were accepted (few 401s, from operations that refuse a wrong password).
    assert all(statuses[code] > 50 for code in (400, 404, 422)), statuses
    assert sum(n for code, n in statuses.items() if code < 300) > 50, statuses
    assert statuses[401] < sent * 0.05, statuses
    assert failures == [], f"{len(failures)} of {sent} answers were wrong:\n" + "\n".join(failures[:300])
