"""`flask areas`: import Jakarta's areas and its neighbours' outlines from GeoJSON, and try the point routing."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jaki.geo.operations import AreaFileInvalid, import_areas, import_neighbours, locate

areas_cli = AppGroup("areas", help="Jakarta areas (kota, kecamatan, kelurahan).")


@areas_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_command(path: str) -> None:
    """Load kota, kecamatan and kelurahan (codes, names, polygons) from a kelurahan GeoJSON file, then derive
    the map's outlines (kecamatan and kota dissolved from their kelurahan); idempotent."""
    from jaki.geo.outlines import store_outlines  # shapely: about 0.3 s to import, paid only here

    try:
        summary = import_areas(path)
    except AreaFileInvalid as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(summary)
    click.echo(store_outlines())


@areas_cli.command("import-neighbours")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_neighbours_command(path: str) -> None:
    """Load the outlines of the kota/kabupaten around Jakarta (jakarta_neighbours.geojson); idempotent."""
    try:
        summary = import_neighbours(path)
    except AreaFileInvalid as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(summary)


@areas_cli.command("locate", context_settings={"ignore_unknown_options": True})
@click.argument("lat", type=float)
@click.argument("lon", type=float)
def locate_command(lat: float, lon: float) -> None:
    """Print the kelurahan a point routes to, or where outside Jakarta it is: `flask areas locate -6.1754 106.8272`."""
    routing = locate(lat, lon)
    if not routing.routed:
        where = f"{routing.region_code} {routing.region_name}" if routing.region_code else "at sea or further away"
        click.echo(f"outside Jakarta ({where})")
        return
    how = "inside" if routing.exact else f"nearest, {routing.distance_m} m"
    click.echo(f"{routing.kelurahan_code} ({routing.kecamatan_code}, {routing.kota_code}; {how})")
