# wardsafe API image: `docker build -t wardsafe .` (see docs/runbook.md).
#
# Two stages on the same base, so the venv built in the first runs unchanged in
# the second: the builder installs the locked runtime dependencies with uv (no
# dev group), the runtime stage gets only that venv and the code.

# ---------------------------------------------------------------------------
FROM python:3.11.14-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

# The same uv version as the Makefile, so the image resolves the lock as CI does.
RUN pip install --no-cache-dir "uv==0.13.9"

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# Then the project itself, installed editable: the venv points at /app, where
# the runtime stage puts app/, so alembic.ini and alembic/ are found next to it.
# (hatchling reads README.md, named in pyproject, when it builds the project.)
COPY README.md ./
COPY app ./app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# ---------------------------------------------------------------------------
FROM python:3.11.14-slim-bookworm AS runtime

# Production, whatever starts the container: it then refuses to start without a
# real WARDSAFE_SECRET_KEY (development, with its public secret, must be asked for).
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WARDSAFE_ENV=production \
    WARDSAFE_HOST=0.0.0.0 \
    WARDSAFE_PORT=8000

# A fixed uid/gid, so a mounted volume can be given to it ahead of time.
RUN groupadd --system --gid 10001 wardsafe \
    && useradd --system --uid 10001 --gid wardsafe --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin wardsafe

WORKDIR /app

COPY --from=builder /app/.venv /app/.venv
COPY pyproject.toml alembic.ini ./
COPY alembic ./alembic
COPY app ./app

# Code stays root-owned and read-only to the service; only var/ (where the
# default SQLite database would live) is writable. Bytecode is compiled here
# because the service cannot write __pycache__ at run time.
RUN python -m compileall -q app alembic \
    && mkdir -p /app/var \
    && chown wardsafe:wardsafe /app/var

# Numeric, so a runtime that checks runAsNonRoot can tell without reading /etc/passwd.
USER 10001:10001

EXPOSE 8000

# Liveness only (the process answers); slim has no curl, so python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WARDSAFE_PORT', '8000'), timeout=4)"]

# Migrate, refresh the official units (idempotent), then hand PID 1 to the
# server so it gets SIGTERM: it drains (/readyz 503 for WARDSAFE_SHUTDOWN_DRAIN_SECONDS),
# then stops once the requests in flight are answered.
CMD ["sh", "-c", "wardsafe migrate && wardsafe import-units && exec wardsafe serve"]
