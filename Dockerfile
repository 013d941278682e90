# Production image of the portal.
#
#   docker build -t prevention-portal .
#   docker run -p 8000:8000 -e PORTAL_SECRET_KEY=... -e PORTAL_DATABASE_URL=... prevention-portal
#
# Both stages use the same base image, so the virtual environment built in the first one
# (whose scripts point at /usr/local/bin/python) runs unchanged in the second.

FROM python:3.11.14-slim-bookworm AS builder

RUN pip install --no-cache-dir uv==0.13.9

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# Then the project itself. It stays an editable install on purpose: the portal finds its
# templates, migrations and translations next to the app package (/app).
COPY README.md ./
COPY app ./app
RUN uv sync --frozen --no-dev


FROM python:3.11.14-slim-bookworm AS runtime

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin portal

ENV PORTAL_ENVIRONMENT=production \
    MALLOC_ARENA_MAX=2 \
    PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /app

COPY --from=builder /app/.venv ./.venv
COPY alembic.ini ./
COPY migrations ./migrations
COPY translations ./translations
COPY static ./static
COPY templates ./templates
COPY app ./app

# var/ holds the SQLite database (when no PORTAL_DATABASE_URL is given), mail and uploads;
# mount a volume there to keep them.
RUN mkdir -p /app/var && chown portal:portal /app/var

USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

CMD ["sh", "-c", "portal db upgrade && exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000 --workers 2 --proxy-headers"]
