"""`flask stats`: maintenance of the statistics' derived data."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jaki.stats.aggregates import recount
from jaki.stats.tasks import refresh_rollups

stats_cli = AppGroup("stats", help="Statistics (the command center's numbers).")


@stats_cli.command("recount")
def recount_command() -> None:
    """Rebuild the exact report counts from the reports (only needed if the triggers were bypassed)."""
    click.echo(f"{recount()} count rows rebuilt")


@stats_cli.command("refresh")
def refresh_command() -> None:
    """Recompute the stale medians rollups now."""
    click.echo(f"{refresh_rollups()} rollups recomputed")
