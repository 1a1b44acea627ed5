"""`flask reports`: maintenance of the reports' derived data."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jaki.reports.map import recount

reports_cli = AppGroup("reports", help="Citizen reports.")


@reports_cli.command("recount-map")
def recount_map_command() -> None:
    """Rebuild the map's per-tile counts from the reports (only needed if the triggers were bypassed)."""
    click.echo(f"{recount()} tile rows counted")
