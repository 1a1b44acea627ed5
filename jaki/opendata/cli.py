"""`flask open-data`: build the published files, or write them to a directory for the open-data portal."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from jaki.opendata.operations import export, publish

open_data_cli = AppGroup("open-data", help="Open data: reports per kelurahan, category and month; the DCAT catalog.")


@open_data_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory: Path) -> None:
    """Write reports.csv, reports.json, reports.geojson (and one per month) and catalog.json to DIRECTORY."""
    for path in export(directory):
        click.echo(str(path))


@open_data_cli.command("publish")
def publish_command() -> None:
    """Build the files now and store them for the API to serve."""
    click.echo(" ".join(publish()))
