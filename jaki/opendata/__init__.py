"""Open data the city can publish: report counts per small area under disclosure control, and a DCAT catalog."""

from __future__ import annotations


def init_app(app) -> None:
    """Blueprint, settings defaults and the `flask open-data` commands."""
    from jaki.extensions import api
    from jaki.opendata.cli import open_data_cli
    from jaki.opendata.routes import blp

    for name, value in (("OPEN_DATA_MONTHS", 24), ("OPEN_DATA_MAX_AGE_SECONDS", 2 * 24 * 3600)):
        if app.config.get(name) is None:
            app.config[name] = value
    api.register_blueprint(blp)
    app.cli.add_command(open_data_cli)
