"""`flask services ...`: reference data, and the periodic jobs for running by hand."""

from __future__ import annotations

import click
from flask.cli import AppGroup

services_cli = AppGroup("services", help="Public services: agencies, reference data, periodic jobs.")


@services_cli.command("seed-reference")
def seed_reference():
    """Create or update the agency registry, aid programmes and permit/letter types (idempotent)."""
    from jaki.extensions import db
    from jaki.services.reference import load_reference

    load_reference()
    db.session.commit()
    click.echo("reference data up to date")


@services_cli.command("remind-due-bills")
def remind_due_bills():
    """Record tax.bill_due events for bills due in 7 days and 1 day (once each)."""
    from jaki.services.tax.tasks import remind_due_bills as run

    click.echo(f"reminders recorded: {run()}")


@services_cli.command("flag-sla-breaches")
def flag_sla_breaches():
    """Flag permits and letters past their SLA (once each)."""
    from jaki.services.permits.tasks import flag_permit_sla_breaches as run

    click.echo(f"applications flagged: {run()}")
