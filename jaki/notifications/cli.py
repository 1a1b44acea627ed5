"""`flask notifications ...`: run the relay, the sweeper or a topic sync by hand (operators, the embedded default)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

notifications_cli = AppGroup("notifications", help="Notification relay, sweeper and topic sync.")


@notifications_cli.command("relay")
def relay():
    """Turn pending outbox events into notifications now (and enqueue their delivery)."""
    from jaki.notifications.relay import relay_outbox

    click.echo(f"relayed {relay_outbox()} events")


@notifications_cli.command("sweep")
def sweep():
    """Re-enqueue notifications, broadcasts and topic syncs that a crash or an outage left behind."""
    from jaki.notifications.delivery import sweep as run_sweep

    click.echo(" ".join(f"{key}={value}" for key, value in sorted(run_sweep().items())) or "nothing to do")
