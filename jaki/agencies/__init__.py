"""The registry of Jakarta agencies (dinas, badan) and their integration health."""


def init_app(app) -> None:
    """Blueprints: the public registry and the admins' integration health (one of jaki.DOMAINS)."""
    from jaki.agencies.routes import admin_blp, blp
    from jaki.extensions import api

    api.register_blueprint(blp)
    api.register_blueprint(admin_blp)
