"""Citizen reports (Qlue-style): filed with photos, routed to kelurahan and agency, resolved by officers."""

from __future__ import annotations

from jaki import i18n
from jaki.reports.messages import MESSAGES

i18n.register(MESSAGES)


def init_app(app) -> None:
    """Blueprints, the `flask areas` and `flask reports` CLI groups, the demo seeder and the data-export section."""
    # Imported when the app is built: importing the package (its messages) stays free of routes and CLI.
    from jaki import demo
    from jaki.extensions import api
    from jaki.geo.cli import areas_cli
    from jaki.reports import demo as reports_demo
    from jaki.reports import privacy, routes
    from jaki.reports.cli import reports_cli

    for blp in (routes.reports_blp, routes.officer_blp, routes.my_blp, routes.categories_blp, routes.external_blp):
        api.register_blueprint(blp)
    app.cli.add_command(areas_cli)
    app.cli.add_command(reports_cli)
    if reports_demo.seed not in demo.SEEDERS:
        demo.SEEDERS.append(reports_demo.seed)
    app.extensions["jaki.export_sections"]["reports"] = privacy.export_section
