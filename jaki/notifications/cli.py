"""`flask notifications ...`: run the relay, the sweeper or a topic sync by hand (operators, the embedded default)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jaki.notifications import tasks

notifications_cli = AppGroup("notifications", help="Notification relay, sweeper and topic sync.")


@notifications_cli.command("relay")
def relay():
    """Turn pending outbox events into notifications now (and enqueue their delivery)."""
    click.echo(f"relayed {tasks.relay_outbox()} events")


@notifications_cli.command("sweep")
def sweep():
    """Re-enqueue notifications, broadcasts and topic syncs that a crash or an outage left behind."""
    click.echo(" ".join(f"{key}={value}" for key, value in sorted(tasks.sweep().items())) or "nothing to do")
