"""The embedded default holds a small office: twenty people at once against `flask run` on a SQLite file, no 500."""

import pytest

from tests.support import office

PEOPLE = 20  # more than a dozen, and more than the 15 connections a bounded pool would give them
PASSWORD = "kantor-kecil-jakarta-2026"


@pytest.fixture
def embedded_server(tmp_path):
    # Cheap password hashing: the subject is the database under concurrency, not argon2 on two cores.
    settings = {
        "JAKI_ARGON2_TIME_COST": "1",
        "JAKI_ARGON2_MEMORY_KIB": "1024",
        "JAKI_REPORTS_CREATE_RATE": "1000 per minute",
        "JAKI_LOG_LEVEL": "WARNING",
    }
    with office.embedded_server(tmp_path, PEOPLE, PASSWORD, **settings) as server:
        yield server


@pytest.mark.slow
def test_twenty_people_at_once_on_sqlite_get_no_500(embedded_server):
    base, niks, log_path = embedded_server
    result = office.run(base, PASSWORD, niks, rounds=2, feed_reads=3)
    errors = [line for line in log_path.read_text().splitlines() if "database is locked" in line]
    assert result.server_errors == 0, (result.summary(), result.failures[:5], errors[:3])
    assert errors == []
    assert result.count("POST", "login", 200) == PEOPLE
    assert result.count("POST", "create report", 201) == PEOPLE * 2
    assert result.count("GET", "feed", 200) == PEOPLE * 2 * 3
    assert result.count("GET", "my reports", 200) == PEOPLE * 2
    assert result.requests == PEOPLE * (1 + 2 * 5)
