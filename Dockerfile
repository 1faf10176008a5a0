# Triangulate as a container: gunicorn serving service.deploy.wsgi:app on 0.0.0.0:${PORT:-8000}.
#
#   docker build -t triangulate .
#   docker run -p 8000:8000 -v triangulate-data:/data triangulate
#
# Two stages: the builder turns the pinned requirements.txt into wheels and installs them into
# a virtual environment at /opt/venv; the runtime stage copies only that environment and the
# source, and runs as an unprivileged numeric user. Settings come from the environment (see the
# README's table); SQLite lives in the /data volume unless DATABASE_URL names PostgreSQL.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
# requirements-dask.txt adds the Dask batch engine's packages (compose's `replicas` profile).
ARG REQUIREMENTS=requirements.txt
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
COPY requirements.txt requirements-dask.txt ./
# Wheels first (one place where anything would be compiled), then an offline install of
# exactly those wheels into the environment that the runtime stage copies. `wheel` lets the
# one source-only package (docopt, under quantulum3) build; it leaves with pip and setuptools.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/python -m pip install --no-cache-dir wheel==0.45.1 \
    && /opt/venv/bin/python -m pip wheel --no-cache-dir --wheel-dir /wheels -r "${REQUIREMENTS}" \
    && /opt/venv/bin/python -m pip install --no-cache-dir --no-index --find-links /wheels \
        -r "${REQUIREMENTS}" \
    && /opt/venv/bin/python -m pip uninstall --yes wheel setuptools pip \
    && find /opt/venv -type d -name tests -path '*/site-packages/*' -prune -exec rm -rf {} + \
    && /opt/venv/bin/python -m compileall -q /opt/venv

FROM ${PYTHON_IMAGE} AS runtime
ARG UID=10001
# HOST: listen on every interface of the container; DATA_DIR: the volume below.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    MPLCONFIGDIR=/var/cache/matplotlib
# The service's user owns nothing but /data. `triangulate` runs the command line as in a
# checkout (docker exec CONTAINER triangulate --help).
RUN groupadd --system --gid "${UID}" triangulate \
    && useradd --system --uid "${UID}" --gid "${UID}" --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin triangulate \
    && mkdir -p /data \
    && chown "${UID}:${UID}" /data \
    && printf '#!/bin/sh\nexec python -m service.cli.main "$@"\n' > /usr/local/bin/triangulate \
    && chmod 0755 /usr/local/bin/triangulate
COPY --from=builder /opt/venv /opt/venv
# The plots' font cache, built once here instead of by every worker at every start (the user
# has no home directory for it); the directory stays the user's so matplotlib accepts it.
RUN python -c "import importlib.util as u; u.find_spec('matplotlib') and __import__('matplotlib.font_manager')" \
    && mkdir -p "${MPLCONFIGDIR}" \
    && chown -R "${UID}:${UID}" "${MPLCONFIGDIR}"
WORKDIR /app
# Source owned by root and read-only for the service's user; byte-compiled here because that
# user cannot write __pycache__ next to it.
COPY models ./models
COPY service ./service
RUN python -m compileall -q /app
USER ${UID}:${UID}
VOLUME ["/data"]
EXPOSE 8000
# Liveness, as an orchestrator would probe it (no curl in a slim image). /healthz rather than
# /readyz: an unreachable database is not a reason to restart this container.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
# SIGTERM (docker stop) is a graceful stop for gunicorn: requests in flight finish within
# GRACEFUL_TIMEOUT (default 30 s), so give docker stop -t / stop_grace_period a little more.
STOPSIGNAL SIGTERM
# service.deploy.serve checks every setting (one clear line and exit status 2 on a bad one), then
# execs `gunicorn --config service/deploy/gunicorn_conf.py service.deploy.wsgi:app`, which stays PID 1.
CMD ["python", "-m", "service.deploy.serve"]
