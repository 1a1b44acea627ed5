"""The one accessor domain code reads its settings through.

Every setting and its default is declared once, in `config/` (the only place environment variables are read);
domain modules never keep their own defaults. `setting(name)` reads the running app's config and fails loudly,
naming the setting, when `config/` does not declare it (a typo must not silently fall back to something).
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def setting(name: str) -> Any:
    """The value of the setting `name` in the running app's config."""
    try:
        return current_app.config[name]
    except KeyError:
        raise KeyError(f"setting {name} is not declared in config/") from None
