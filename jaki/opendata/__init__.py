"""Open data the city can publish: report counts per small area under disclosure control, and a DCAT catalog."""

from __future__ import annotations


def init_app(app) -> None:
    """Blueprint and the `flask open-data` commands (the OPEN_DATA_* settings are in config/)."""
    from jaki.extensions import api
    from jaki.opendata.cli import open_data_cli
    from jaki.opendata.routes import blp

    api.register_blueprint(blp)
    app.cli.add_command(open_data_cli)
