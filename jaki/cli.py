"""Flask CLI commands: jobs (rq worker), users (staff accounts), reference (real reference data), demo (fake people)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from jaki import jobs
from jaki.auth import operations
from jaki.auth.models import STAFF_ROLES
from jaki.demo import DemoRefused, seed_demo
from jaki.errors import JakiError
from jaki.extensions import db
from jaki.logging import DemoteRoutine
from jaki.reference import load
from jaki.schedule import DESCRIPTION_PREFIX, JOB_ID_PREFIX, start_in_thread

jobs_cli = AppGroup("jobs", help="Background jobs (rq).")
users_cli = AppGroup("users", help="Staff accounts.")
reference_cli = AppGroup("reference", help="Reference data: agencies, aid programmes, permit types, report categories.")
demo_cli = AppGroup("demo", help="Demo data for the embedded default (refused in production).")

EXTRA_COMMANDS: list = []  # domains append (group) objects here at import time


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of forking (tests, debugging).")
@click.option("--queue", "queues", multiple=True, help="Listen on these queues only (default: all).")
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also run jaki.schedule's periodic tasks (once per slot across all machines).",
)
def worker(burst: bool, simple: bool, queues: tuple[str, ...], periodic: bool):
    """Start an rq worker with the scheduler on every jaki queue."""
    import logging

    from rq import SimpleWorker, Worker

    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        raise click.ClickException("REDIS_URL is not set: on the embedded default jobs run in-process.")
    _require_redis(redis)
    # The forked job processes reuse this app; they must not share its pooled connections.
    jobs.bind_worker_app(current_app._get_current_object())
    db.engine.dispose()
    # Expensive per-process clients (the FCM sender and its HTTP pool) are built once here, before forking,
    # so each job process inherits them instead of rebuilding them per job.
    for warm_up in current_app.extensions.get("jaki.worker_warmups", []):
        warm_up()
    worker_class = SimpleWorker if simple else Worker
    rq_log = logging.getLogger("rq.worker")
    if not any(isinstance(f, DemoteRoutine) for f in rq_log.filters):
        rq_log.addFilter(DemoteRoutine(JOB_ID_PREFIX, DESCRIPTION_PREFIX))
    names = list(queues) or list(jobs.Queues.ALL)
    w = worker_class(names, connection=redis)
    stop = None
    if periodic and not burst:
        stop = start_in_thread(current_app._get_current_object())
    try:
        w.work(burst=burst, with_scheduler=True)
    finally:
        if stop is not None:
            stop.set()


def _require_redis(redis) -> None:
    """Start only against a Redis that answers: one clear line (for the supervisor's log) instead of a traceback.
    Once running, rq itself rides out an outage, reconnecting with backoff."""
    from redis.exceptions import RedisError

    try:
        redis.ping()
    except RedisError as exc:
        where = redis.connection_pool.connection_kwargs
        address = f"{where.get('host', '?')}:{where.get('port', '?')}"  # never the URL: it may hold a password
        raise click.ClickException(f"Redis at {address} is unreachable ({type(exc).__name__}); not starting.") from None


@users_cli.command("create-staff")
@click.option("--nik", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--birth-date", required=True, help="YYYY-MM-DD, must agree with the NIK")
@click.option("--phone", required=True)
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True)
@click.option("--agency", "agency_code", default=None)
@click.option("--area", "area_codes", multiple=True, help="Area code (kota, kecamatan or kelurahan); repeatable")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_staff(nik, full_name, birth_date, phone, role, agency_code, area_codes, password):
    """Create an officer, agency admin, admin or command-center account."""
    from datetime import date

    try:
        user = operations.create_staff(
            nik=nik,
            full_name=full_name,
            birth_date=date.fromisoformat(birth_date),
            phone=phone,
            password=password,
            role=role,
            agency_code=agency_code,
            area_codes=list(area_codes),
        )
    except JakiError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message} {exc.errors or ''}") from None
    click.echo(f"created {user.role} {user.id}")


@reference_cli.command("load")
def load_reference():
    """Create or update the reference data an empty database needs before citizens can file reports (idempotent)."""
    for line in load():
        click.echo(line)


@demo_cli.command("seed")
def seed():
    """Load demo data (idempotent) and print the demo logins."""
    try:
        lines = seed_demo()
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


def register(app) -> None:
    for group in (jobs_cli, users_cli, reference_cli, demo_cli, *EXTRA_COMMANDS):
        app.cli.add_command(group)
