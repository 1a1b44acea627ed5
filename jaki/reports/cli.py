"""`flask reports`: maintenance of the reports' derived data."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jaki.reports.evidence import verify_chain
from jaki.reports.map import recount

reports_cli = AppGroup("reports", help="Citizen reports.")


@reports_cli.command("recount-map")
def recount_map_command() -> None:
    """Rebuild the map's per-tile counts from the reports (only needed if the triggers were bypassed)."""
    click.echo(f"{recount()} tile rows counted")


@reports_cli.command("verify-evidence")
def verify_evidence_command() -> None:
    """Walk the evidence log's hash chain; name the first row that does not hold (exit status 1)."""
    result = verify_chain()
    if result.broken_id is not None:
        click.echo(
            f"evidence log broken at row {result.broken_id} ({result.reason}); {result.rows} rows before it hold",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"evidence log intact: {result.rows} rows")
