"""WSGI entry point: ``gunicorn --config service/deploy/gunicorn_conf.py
service.deploy.wsgi:app``."""

from __future__ import annotations

from service import create_app

app = create_app()
