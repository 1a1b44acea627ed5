"""`flask services ...`: reference data, and the periodic jobs for running by hand."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jaki.extensions import db
from jaki.services.permits.tasks import flag_permit_sla_breaches
from jaki.services.reference import load_reference
from jaki.services.tax import tasks as tax_tasks

services_cli = AppGroup("services", help="Public services: agencies, reference data, periodic jobs.")


@services_cli.command("seed-reference")
def seed_reference():
    """Create or update the agency registry, aid programmes and permit/letter types (idempotent)."""
    load_reference()
    db.session.commit()
    click.echo("reference data up to date")


@services_cli.command("remind-due-bills")
def remind_due_bills():
    """Record tax.bill_due events for bills due in 7 days and 1 day (once each)."""
    click.echo(f"reminders recorded: {tax_tasks.remind_due_bills()}")


@services_cli.command("flag-sla-breaches")
def flag_sla_breaches():
    """Flag permits and letters past their SLA (once each)."""
    click.echo(f"applications flagged: {flag_permit_sla_breaches()}")
