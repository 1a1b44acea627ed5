"""Public services behind one door: health, education, social aid, tax, permits and letters."""

from jaki import i18n
from jaki.services.messages import MESSAGES

i18n.register(MESSAGES)


def init_app(app) -> None:
    """Blueprints, the `flask services` commands, the demo seeder and the data-export sections."""
    import jaki.services.education.connectors
    import jaki.services.health.connectors
    import jaki.services.permits.connectors
    import jaki.services.social_aid.connectors
    import jaki.services.tax.connectors  # noqa: F401 - each registers its domain's connectors
    from jaki import demo
    from jaki.extensions import api
    from jaki.services import cli, export, routes
    from jaki.services.demo import seed_services
    from jaki.services.permits.routes import calendar_blp, letters_blp, permits_blp
    from jaki.services.social_aid.routes import blp as social_aid_blp

    for blp in (routes.blp, social_aid_blp, permits_blp, letters_blp, calendar_blp):
        api.register_blueprint(blp)
    app.cli.add_command(cli.services_cli)
    if seed_services not in demo.SEEDERS:
        demo.SEEDERS.append(seed_services)
    app.extensions["jaki.export_sections"].update(export.SECTIONS)
