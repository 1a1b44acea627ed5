"""WSGI entry point: gunicorn wsgi:app."""

from jaki import create_app

app = create_app()
