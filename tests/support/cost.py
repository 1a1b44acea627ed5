"""What a request costs: the SQL statements and Redis commands it sends, counted as a server would see them."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from jaki.extensions import db


def _empty_session() -> None:
    db.session.expunge_all()


class Cost:
    """SQL statements on the app's engine and commands on the app's Redis client, while the block runs."""

    def __init__(self, app, monkeypatch):
        self.app = app
        self.monkeypatch = pytest.MonkeyPatch()  # its own: undoing it leaves the test's settings alone
        with app.app_context():
            # The test's one connection (every request's session is bound to it), or the engine.
            self.target = db.session.get_bind()
        self.statements: list[str] = []
        self.redis_commands: list[str] = []

    def __enter__(self):
        # The test harness keeps one session across requests; a server starts each request with an empty one.
        self._funcs = self.app.before_request_funcs.setdefault(None, [])
        self._funcs.insert(0, _empty_session)
        event.listen(self.target, "before_cursor_execute", self._statement)
        redis = self.app.extensions.get("jaki.redis")
        if redis is not None:
            real = redis.execute_command

            def counted(*args, **options):
                self.redis_commands.append(str(args[0]))
                return real(*args, **options)

            self.monkeypatch.setattr(redis, "execute_command", counted)
            real_pipeline = redis.pipeline

            def counted_pipeline(*args, **options):
                pipe = real_pipeline(*args, **options)
                real_execute = pipe.execute

                def execute(*e_args, **e_options):
                    # One round trip, however many commands it carries.
                    self.redis_commands.append("+".join(str(c[0][0]) for c in pipe.command_stack))
                    return real_execute(*e_args, **e_options)

                pipe.execute = execute
                return pipe

            self.monkeypatch.setattr(redis, "pipeline", counted_pipeline)
        return self

    def __exit__(self, *exc):
        self._funcs.remove(_empty_session)
        event.remove(self.target, "before_cursor_execute", self._statement)
        self.monkeypatch.undo()

    def _statement(self, _conn, _cursor, statement, *args):
        self.statements.append(statement)
