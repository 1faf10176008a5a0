"""Running the service: gunicorn's settings, ``python -m service.deploy.serve``, the WSGI entry
point, structured logs, Prometheus metrics and the readiness check."""
