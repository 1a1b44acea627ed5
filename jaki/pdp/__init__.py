"""The citizen's data rights under UU PDP: access log, correction, deletion, objection, breach notice, retention."""

from __future__ import annotations

from jaki import i18n
from jaki.pdp.messages import MESSAGES

i18n.register(MESSAGES)


def init_app(app) -> None:
    """Blueprint, the `flask pdp` commands and the data-export section."""
    from jaki.extensions import api
    from jaki.pdp.cli import pdp_cli
    from jaki.pdp.export import export_section
    from jaki.pdp.routes import blp

    api.register_blueprint(blp)
    app.cli.add_command(pdp_cli)
    app.extensions["jaki.export_sections"]["data_rights"] = export_section
