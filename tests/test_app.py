"""Settings, health and readiness, and the jobs wrapper."""

import pytest

from jaki import jobs


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_database_and_redis(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.get_json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"] == ("ok" if app.extensions["jaki.redis"] is not None else "not_configured")


def test_readyz_is_503_when_redis_is_unreachable(app, client):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    original = app.extensions["jaki.redis"]
    app.extensions["jaki.redis"] = redis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    try:
        response = client.get("/readyz")
    finally:
        app.extensions["jaki.redis"] = original
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] == "unavailable"


def test_worker_listens_on_every_queue(app, monkeypatch):
    """The CLI worker is built with jaki.jobs.Queues.ALL; no queue is forgotten."""
    seen = {}

    class FakeWorker:
        def __init__(self, queues, connection):
            seen["queues"] = list(queues)

        def work(self, burst, with_scheduler):
            seen["scheduler"] = with_scheduler

    import rq

    monkeypatch.setattr(rq, "Worker", FakeWorker)
    monkeypatch.setattr(rq, "SimpleWorker", FakeWorker)

    class AnsweringRedis:
        def ping(self):
            return True

    original = app.extensions["jaki.redis"]
    app.extensions["jaki.redis"] = original or AnsweringRedis()
    try:
        result = app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    finally:
        app.extensions["jaki.redis"] = original
    assert result.exit_code == 0, result.output
    assert seen["queues"] == list(jobs.Queues.ALL) and seen["scheduler"] is True
    names = [v for k, v in vars(jobs.Queues).items() if k.isupper() and isinstance(v, str)]
    assert sorted(names) == sorted(jobs.Queues.ALL)


def test_the_worker_does_not_start_without_a_redis_that_answers(app, monkeypatch):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    monkeypatch.setitem(app.extensions, "jaki.redis", down)
    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: Redis at 127.0.0.1:1 is unreachable (ConnectionError); not starting."


_calls = []


def _record_call(value):
    _calls.append(value)


def test_inline_enqueue_runs_now(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "inline")
    jobs.enqueue(_record_call, 7, queue=jobs.Queues.DEFAULT)
    assert _calls[-1] == 7
    with pytest.raises(ValueError):
        jobs.enqueue(_record_call, 1, queue="no-such-queue")


@pytest.mark.redis
def test_rq_enqueue_goes_to_redis_and_a_worker_runs_it(app, ctx, monkeypatch):
    from rq import SimpleWorker

    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    job = jobs.enqueue(_record_call, 11, queue=jobs.Queues.MEDIA, retries=0)
    assert job.origin == jobs.Queues.MEDIA
    worker = SimpleWorker([jobs.get_queue(jobs.Queues.MEDIA)], connection=app.extensions["jaki.redis"])
    worker.work(burst=True)
    assert _calls[-1] == 11
