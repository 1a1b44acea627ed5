"""Serves /command-center: one HTML page and its own script, style and icon, under a strict CSP."""

from __future__ import annotations

from flask import Blueprint

blp = Blueprint("command_center", __name__)
