"""Statistics for the command center: exact report counts, medians rollups, backlog, agencies, permits and letters."""

from __future__ import annotations

from jaki import i18n
from jaki.stats.messages import MESSAGES

i18n.register(MESSAGES)


def init_app(app) -> None:
    """Blueprint and the `flask stats` commands (the STATS_* settings and their defaults are in config/)."""
    from jaki.extensions import api
    from jaki.stats.cli import stats_cli
    from jaki.stats.routes import blp

    api.register_blueprint(blp)
    app.cli.add_command(stats_cli)
