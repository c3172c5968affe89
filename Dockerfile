# sdb-agent: the agent, its CLI and `sdb-agent serve`.
# pg_dump/pg_restore come from the PostgreSQL 16 bundle installed with the locked dependencies
# (pgserver), so they match a PostgreSQL 16 server; a newer server needs a newer client on PATH.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends git make \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 agent
WORKDIR /app

# The runtime lock: the same pins as requirements.lock, without the test and lint tools.
COPY requirements-runtime.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements-runtime.lock

COPY . .
RUN pip install --no-cache-dir --no-deps -e . && chown -R agent:agent /app

USER agent
ENV SDB_DATA_DIR=/app/.data \
    BACKUP_DIR=/app/backups \
    HTTP_HOST=0.0.0.0
EXPOSE 8080
CMD ["sdb-agent", "--help"]
