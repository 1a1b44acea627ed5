"""`flask open311`: issue, list and revoke Open311 API keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jaki.errors import JakiError
from jaki.open311 import operations

open311_cli = AppGroup("open311", help="Open311 GeoReport v2: client API keys.")


@open311_cli.command("create-key")
@click.argument("name")
def create_key(name: str):
    """Issue an API key for the client NAME; the key is printed once (only its hash is stored)."""
    name = name.strip()
    if not 2 <= len(name) <= 100:
        raise click.BadParameter("NAME must be 2-100 characters", param_hint="NAME")
    key, raw = operations.create_key(name)
    click.echo(f"id   {key.id}")
    click.echo(f"key  {raw}")
    click.echo("Store the key now: it cannot be shown again.")


@open311_cli.command("list-keys")
def list_keys():
    """Issued keys: id, prefix, name, state."""
    for key in operations.list_keys():
        state = "revoked" if key.revoked_at else "active"
        click.echo(f"{key.id}  {key.key_prefix}...  {state:<7}  {key.name}")


@open311_cli.command("revoke-key")
@click.argument("key_id")
def revoke_key(key_id: str):
    """Revoke the key with id KEY_ID."""
    try:
        key = operations.revoke_key(key_id)
    except JakiError as exc:
        raise click.ClickException(f"{exc.code}: no key with id {key_id}") from None
    click.echo(f"revoked {key.id} ({key.name})")
