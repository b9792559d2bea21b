"""WSGI entry point: `gunicorn wsgi:app`."""

from madoguchi import create_app

app = create_app()
