"""Reading the config file: the only code that opens it (and the password files it names).

Every problem is reported at once, each naming the file, the key path and what is wrong, so an
operator fixes a config in one round instead of one error per restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr, ValidationError

from .settings import (
    DEFAULT_REDIS_URL,
    DEFAULT_TIMEOUT_SECONDS,
    ExporterConfig,
    ResqueSettings,
    clean_message,
)


class ConfigError(Exception):
    """A config that cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def load_config(path: str | Path) -> ExporterConfig:
    """Parse, validate and resolve secrets of a config file, or raise ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{path}: invalid YAML{where}: {problem}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError([f"{path}: must be a mapping with a top-level `resques:` key"])
    config = _validate(path, _relative_to(path.parent, raw))
    return _with_passwords(path, config)


def config_from_flags(
    redis_url: str = DEFAULT_REDIS_URL,
    namespace: str = "resque",
    password_file: str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    name: str = "default",
) -> ExporterConfig:
    """The one-Resque config used when no config file is given."""
    raw: dict[str, Any] = {"redis_url": redis_url, "namespace": namespace, "timeout_seconds": timeout_seconds}
    if password_file:
        raw["password_file"] = password_file
    config = _validate(Path("<command line>"), {"resques": {name: raw}})
    return _with_passwords(Path("<command line>"), config)


def _validate(path: Path, raw: dict[str, Any]) -> ExporterConfig:
    try:
        return ExporterConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None


def _describe(path: Path, exc: ValidationError) -> list[str]:
    problems = []
    errors = exc.errors()
    failed_items = {tuple(error["loc"][:-1]) for error in errors if error["loc"]}
    for error in errors:
        if error["type"] == "too_short" and tuple(error["loc"]) in failed_items:
            continue  # a list whose items were refused is not also "empty"
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["loc"] and error["loc"][-1] == "[key]":
            where = ".".join(str(part) for part in error["loc"][:-1])
            message = "Resque names are 1-63 letters, digits, `_`, `.` or `-`, starting with a letter or digit"
        else:
            message = _FRIENDLY.get(error["type"]) or clean_message(error["msg"])
            if error["type"] == "path_not_file":
                message = f"no such file: {error['input']}"
        problems.append(f"{path}: {where}: {message}")
    return problems


_FRIENDLY = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "too_short": "must not be empty",
}


def _relative_to(config_dir: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """Resolve relative password_file paths against the config file's folder, not the process's."""
    resques = raw.get("resques")
    if not isinstance(resques, dict):
        return raw
    fixed: dict[str, Any] = {}
    for name, settings in resques.items():
        if isinstance(settings, dict):
            settings = _paths_relative(config_dir, settings, ("password_file",))
            for block, names in (("tls", ("ca_file", "cert_file", "key_file")), ("sentinel", ("password_file",))):
                if isinstance(settings.get(block), dict):
                    settings = {**settings, block: _paths_relative(config_dir, settings[block], names)}
        fixed[name] = settings
    return {**raw, "resques": fixed}


def _paths_relative(config_dir: Path, mapping: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    fixed = dict(mapping)
    for name in names:
        if isinstance(fixed.get(name), str) and not Path(fixed[name]).is_absolute():
            fixed[name] = str(config_dir / fixed[name])
    return fixed


def _with_passwords(path: Path, config: ExporterConfig) -> ExporterConfig:
    """Read each password_file once at load, so a scrape never touches the filesystem."""
    problems: list[str] = []
    resolved: dict[str, ResqueSettings] = {}
    for name, settings in config.resques.items():
        sentinel = settings.sentinel
        if sentinel is not None and sentinel.password_file is not None:
            secret = _secret(path, f"resques.{name}.sentinel.password_file", sentinel.password_file, problems)
            if secret is None:
                continue
            settings = settings.model_copy(update={"sentinel": sentinel.model_copy(update={"password": secret})})
        if settings.password_file is None:
            resolved[name] = settings
            continue
        password = _secret(path, f"resques.{name}.password_file", settings.password_file, problems)
        if password is None:
            continue
        resolved[name] = settings.model_copy(update={"password": password})
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={"resques": resolved})


def _secret(path: Path, where: str, file: Path, problems: list[str]) -> SecretStr | None:
    """The trimmed content of a password file, or None with the problem recorded."""
    try:
        secret = file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: {where}: cannot read {file}: {exc}")
        return None
    if not secret:
        problems.append(f"{path}: {where}: {file} is empty")
        return None
    return SecretStr(secret)
