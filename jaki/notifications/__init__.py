"""Notifications: devices and FCM topics, the inbox, the outbox relay, push delivery and area broadcasts."""

from __future__ import annotations

from jaki.i18n import register

register(
    {
        "notification_type_unknown": ("Jenis notifikasi tidak dikenal.", "Unknown notification type."),
        "notification_type_unmutable": (
            "Peringatan darurat tidak dapat dimatikan.",
            "Emergency alerts cannot be turned off.",
        ),
    }
)


def init_app(app) -> None:
    # Local imports: importing jaki.notifications.models (migrations, jaki.models) must not pull in the routes,
    # the jobs and firebase-admin (half a second); loaded once here, forked job processes inherit them.
    from jaki import demo
    from jaki.extensions import api
    from jaki.notifications import hooks, operations
    from jaki.notifications.cli import notifications_cli
    from jaki.notifications.delivery import push_sender
    from jaki.notifications.routes import admin_blp, me_blp
    from jaki.schedule import periodic_cli

    api.register_blueprint(me_blp)
    api.register_blueprint(admin_blp)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(periodic_cli)
    app.extensions.setdefault("jaki.export_sections", {})["notifications"] = operations.export_section
    hooks.install()
    warmups = app.extensions.setdefault("jaki.worker_warmups", [])
    if push_sender not in warmups:
        warmups.append(push_sender)
    if operations.seed_demo_broadcast not in demo.SEEDERS:
        demo.SEEDERS.append(operations.seed_demo_broadcast)
