"""resque-sidecar: the remediation API (routers per resource, dependencies, request and response models)."""
