"""What a view declares about itself (signed in, rate limited, idempotent, cacheable), for the Blueprint to document."""

from __future__ import annotations

from copy import deepcopy


def mark_operation(view, **facts):
    """Record facts about a view (signed in, rate limited, idempotent, cacheable) for the Blueprint to document.

    They live in the view's _apidoc, which flask-smorest reads and functools.wraps carries outwards, so the
    decorator that does a thing is the one that documents it and no view can forget the documentation."""
    doc = deepcopy(getattr(view, "_apidoc", {}))
    doc.setdefault("jaki", {}).update(facts)
    view._apidoc = doc
    return view


def operation_facts(view) -> dict:
    return getattr(view, "_apidoc", {}).get("jaki", {})
