"""Configuration: YAML file (or flags) -> validated, typed settings."""

from .loader import ConfigError, config_from_flags, load_config
from .settings import ExporterConfig, ResqueSettings, redact_url

__all__ = [
    "ConfigError",
    "ExporterConfig",
    "ResqueSettings",
    "config_from_flags",
    "load_config",
    "redact_url",
]
