# The Lectern image: the Procfile's `web` by default (config/web.py: uvicorn serving config.asgi,
# one process per core with REDIS_URL set, or WEB_CONCURRENCY of them); compose runs the
# `worker` from the same image. Static files are collected at build and served by WhiteNoise.
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# git: stage 1 of a repository import clones with the git CLI (bare and shallow, docs/imports.md);
# Debian's security updates keep it patched.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 lectern
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Code and static files stay root-owned (read-only to the service); var/ is its only writable
# folder (the filesystem broker when no Redis is configured).
RUN DEBUG=true python manage.py collectstatic --no-input -v0 \
    && mkdir -p var && chown lectern:lectern var
USER lectern
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --no-input && exec python -m config.web"]
