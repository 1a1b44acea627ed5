"""The command center's page (/command-center): a map, KPI tiles, trend, backlog and integration board for staff."""

from __future__ import annotations


def init_app(app) -> None:
    from jaki.command_center.routes import blp

    app.register_blueprint(blp)
