"""`flask pdp`: the breach notice (UU PDP: subjects and the authority told within 3 x 24 hours) and retention."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from jaki.db import utcnow
from jaki.pdp.breach import BreachInputError, Scope, run
from jaki.pdp.retention import enforce

pdp_cli = AppGroup("pdp", help="Personal data (UU PDP): breach notices, retention.")


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (2026-12-01T08:00+07:00)") from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} needs a UTC offset (+07:00 for WIB)")
    return moment.astimezone(UTC)


@pdp_cli.command("breach-notice")
@click.option("--table", help="The table whose records were exposed (e.g. svc_jkn_memberships, reports, users).")
@click.option("--since", help="Start of the exposure window, ISO 8601 with offset.")
@click.option("--until", help="End of the exposure window, ISO 8601 with offset.")
@click.option("--ids", help="Comma-separated ids of the exposed records (of --table).")
@click.option("--ids-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="One id a line.")
@click.option("--actor", "actor_id", help="A compromised staff account: every person it read in the window.")
@click.option("--detected-at", help="When the breach was found (default: now); the 3 x 24 hours run from it.")
@click.option("--description", required=True, help="What happened, for the authority's report.")
@click.option("--action", "actions", multiple=True, help="What was done (repeat): revoked keys, closed the hole...")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Write the files here.")
@click.option("--send", is_flag=True, help="Queue the inbox and push notices to the affected accounts now.")
def breach_notice(table, since, until, ids, ids_file, actor_id, detected_at, description, actions, out_dir, send):
    """Work out the affected citizens, draft the notices (Indonesian and English) and the authority's report."""
    record_ids = [i.strip() for i in (ids or "").split(",") if i.strip()]
    if ids_file:
        record_ids += [line.strip() for line in ids_file.read_text().splitlines() if line.strip()]
    if record_ids and not table:
        raise click.UsageError("--ids needs --table")
    scope = Scope(table=table, since=_when(since), until=_when(until), ids=record_ids, actor_id=actor_id)
    try:
        row = run(
            scope,
            detected_at=_when(detected_at) or utcnow(),
            description=description,
            actions_taken=list(actions),
            send=send,
        )
    except BreachInputError as exc:
        raise click.UsageError(str(exc)) from None
    report = row.report
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{row.reference}-report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        for language, texts in report["notices"].items():
            body = "\n".join(f"[{key}]\n{text}\n" for key, text in texts.items())
            (out_dir / f"{row.reference}-notice-{language}.txt").write_text(body)
    click.echo(f"breach report {row.reference}")
    click.echo(f"  affected accounts: {report['how_many']['accounts']}")
    click.echo(f"  people without an account: {report['how_many']['people_without_account']}")
    click.echo(f"  accounts closed since (nobody to notify): {report['how_many']['closed_accounts']}")
    click.echo(f"  notify subjects and the authority by: {report['when']['subjects_and_authority_notified_by']}")
    click.echo("  notices: " + ("queued" if row.notices_sent_at else "drafted only (--send queues them)"))
    if out_dir:
        click.echo(f"  files in {out_dir}")


@pdp_cli.command("retention")
def retention_command():
    """Delete what outlived its retention period now (the periodic task does it daily)."""
    for name, count in enforce().items():
        click.echo(f"{name}: {count} deleted")
