# syntax=docker/dockerfile:1
# One image, three programs: resque-exporter (the default), resque-sidecar and resque-agent.
#   docker run -e REDIS_URL=redis://redis:6379/0 -p 9447:9447 IMAGE            # one Resque
#   docker run -v $PWD/config.yml:/etc/resque-exporter/config.yml:ro IMAGE      # a config file
#   docker run IMAGE --demo                                                      # flags go to the exporter
#   docker run IMAGE resque-sidecar --auth.tokens-file /run/secrets/tokens.yml   # another program
# The entrypoint (resque_exporter.container) makes that choice; see docs/deploy.md, "Docker".

# Build stage: turn the source into a wheel (and its dependencies into wheels) once.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: only the wheels, no build tools, a fixed non-root user.
FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin resque-exporter \
 && mkdir -p /etc/resque-exporter /var/lib/resque-exporter \
 && chown 10001:10001 /var/lib/resque-exporter
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
USER 10001:10001
# Read-only root filesystem: no bytecode is written at run time; the only writable path any program
# needs is /var/lib/resque-exporter (the demo secrets of demo-sidecar), which compose mounts as a volume.
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
EXPOSE 9447 9448 9449
# Probes /-/healthy of whichever program runs, on its port (found from its command line).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["python", "-m", "resque_exporter.container.healthcheck"]
ENTRYPOINT ["python", "-m", "resque_exporter.container"]
# No arguments: the exporter, reading the mounted config or REDIS_URL (it says which, or what is missing).
CMD []
