"""Statistics for the command center: exact report counts, medians rollups, backlog, agencies, permits and letters."""

from __future__ import annotations

from jaki import i18n
from jaki.stats.messages import MESSAGES

i18n.register(MESSAGES)

# Settings with their defaults (config/__init__.py reads the JAKI_STATS_* variables).
DEFAULTS = {
    "STATS_RED_FLAG_DAYS": 6,  # Jakarta: a report unanswered at 6 days turns red (the limit is 7)
    "STATS_DEFAULT_MONTHS": 12,  # the period when none is given: this month and the 11 before
    "STATS_ROLLUP_MAX_AGE_SECONDS": 1800,  # older medians are recomputed by the request that finds them
    "STATS_ROLLUP_REFRESH_SECONDS": 600,  # the periodic task recomputes rollups older than this
    "STATS_ROLLUP_REFRESH_BATCH": 200,  # rollups recomputed per run at most
    "STATS_ROLLUP_KEEP_DAYS": 7,  # a rollup nobody asked for this long is dropped
}


def init_app(app) -> None:
    """Blueprint, settings defaults and the `flask stats` commands."""
    from jaki.extensions import api
    from jaki.stats.cli import stats_cli
    from jaki.stats.routes import blp

    for name, value in DEFAULTS.items():
        if app.config.get(name) is None:
            app.config[name] = value
    api.register_blueprint(blp)
    app.cli.add_command(stats_cli)
