"""HTTP: the exporter app (and, later, the sidecar API)."""
