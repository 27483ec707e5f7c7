# syntax=docker/dockerfile:1
# Build stage: turn the source into a wheel (and its dependencies into wheels) once.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: only the wheels, no build tools, a fixed non-root user.
FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin resque-exporter
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
USER 10001:10001
EXPOSE 9447
ENV PYTHONUNBUFFERED=1
HEALTHCHECK --interval=30s --timeout=3s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9447/-/healthy', timeout=2)"]
ENTRYPOINT ["resque-exporter"]
# Mount a config at /etc/resque-exporter/config.yml, or set REDIS_URL; `--demo` needs nothing.
CMD ["--config.file", "/etc/resque-exporter/config.yml"]
