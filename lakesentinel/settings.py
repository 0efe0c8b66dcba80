"""Configuration: one strict, typed tree per environment (``config/<env>.yaml``).

Values may reference environment variables as ``${NAME}`` or ``${NAME:-default}``, and any key can be
overridden by an environment variable ``LAKESENTINEL__<KEY>__<SUBKEY>`` (pydantic-settings). A wrong or
missing setting fails at start with a message naming the key and where it came from.
"""

from __future__ import annotations

import difflib
import os
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from lakesentinel.errors import ConfigError
from lakesentinel.sources.system_tables import SYSTEM_TABLES

ENV_PREFIX = "LAKESENTINEL__"
# The configuration, rule packs and detector specs the wheel carries (the defaults).
SHIPPED_DIR = Path(str(resources.files("lakesentinel.shipped")))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SchemaNames(_Strict):
    bronze: str = "plt_bronze"
    silver: str = "plt_silver"
    gold: str = "plt_gold"
    ops: str = "plt_ops"
    features: str = "plt_features"


class SparkSettings(_Strict):
    """Only read when lakesentinel starts Spark itself; on Databricks the runtime's session is used."""

    master: str | None = None
    shuffle_partitions: int = Field(2, ge=1)
    driver_memory: str = "4g"
    conf: dict[str, str] = Field(default_factory=dict)


class SourceSettings(_Strict):
    """Where one system table is read from, and how.

    ``stream``: Structured Streaming over the Delta table; ``hwm``: batch reads from a high-water mark
    with overlap (for tables Databricks does not stream, such as query history); ``snapshot``: small
    reference tables re-read whole and merged.
    """

    table: str
    mode: Literal["stream", "hwm", "snapshot"]
    read_change_feed: bool = True
    skip_change_commits: bool = False

    @model_validator(mode="after")
    def _skip_needs_a_plain_stream(self) -> "SourceSettings":
        if self.read_change_feed and self.skip_change_commits:
            raise ValueError("skip_change_commits is ignored when the change feed is read (Delta ignores "
                             "skipChangeCommits with readChangeFeed): set read_change_feed: false")
        return self


def default_source(table, runtime: str) -> dict:
    """How a system table is read when the configuration does not say: its name and the catalogue's read mode."""
    schema, _, name = table.name.partition(".")
    mode = table.read_mode
    if runtime == "databricks":
        return {"table": f"system.{table.name}", "mode": mode, "skip_change_commits": mode == "stream"}
    return {"table": f"system_{schema}.{name}", "mode": mode}


class TriggerSettings(_Strict):
    continuous: str = "1 second"
    scheduled: Literal["available_now", "once"] = "available_now"
    per_stream: dict[str, str] = Field(default_factory=dict)


class HwmSettings(_Strict):
    overlap_hours: int = Field(48, ge=48, le=72)


class PathSettings(_Strict):
    """The files a security team edits: rule packs, detector specs, routes, data-quality checks.

    ``root`` is their folder (on Databricks one the bundle syncs, or a Unity Catalog volume); unset or
    empty, the packs shipped in the wheel are read. Relative paths resolve under it.
    """

    root: str | None = None
    rules: str = "rules"
    detectors: str = "rules/detectors"
    routes: str = "config/routes.yaml"
    quality: str = "config/quality.yaml"

    @field_validator("root")
    @classmethod
    def _empty_root_means_shipped(cls, value: str | None) -> str | None:
        return value or None

    def base(self) -> Path:
        return Path(self.root) if self.root else SHIPPED_DIR

    def resolve(self, key: str) -> Path:
        p = Path(getattr(self, key))
        return p if p.is_absolute() else self.base() / p


class MlflowSettings(_Strict):
    tracking_uri: str | None = None  # None: the platform default (Databricks), a local store otherwise
    experiment: str = "/lakesentinel/detectors"
    registry_uri: str | None = None


class TagSettings(_Strict):
    """Showback tags: how keys are normalised and which ones spend must carry."""

    aliases: dict[str, str] = Field(default_factory=dict)  # normalised key -> canonical key
    required: list[str] = Field(default_factory=lambda: ["cost_center", "team"])


class SilverSettings(_Strict):
    tags: TagSettings = Field(default_factory=TagSettings)
    interval_s: float = Field(10.0, gt=0)  # how often the monitor runs the silver tasks
    parallel_tasks: int = Field(3, ge=1, le=32)  # tasks of one phase a whole run builds side by side


class RuleSettings(_Strict):
    """The rules engine on the hot path."""

    # A micro-batch's rule evaluation is cancelled after this long; the rule at fault is quarantined
    # and the batch lands without it (the backstop behind the static regex checks).
    batch_budget_s: float = Field(120.0, gt=0)


class SimulatorSettings(_Strict):
    ground_truth_table: str = "lakesentinel_sim.ground_truth"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    environment: str
    runtime: Literal["local", "databricks"]
    catalog: str | None = None
    schemas: SchemaNames = Field(default_factory=SchemaNames)
    storage_root: str | None = None
    checkpoint_root: str
    state_root: str
    spark: SparkSettings = Field(default_factory=SparkSettings)
    sources: dict[str, SourceSettings]
    triggers: TriggerSettings = Field(default_factory=TriggerSettings)
    hwm: HwmSettings = Field(default_factory=HwmSettings)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    silver: SilverSettings = Field(default_factory=SilverSettings)
    rules: RuleSettings = Field(default_factory=RuleSettings)
    paths: PathSettings = Field(default_factory=PathSettings)
    mlflow: MlflowSettings = Field(default_factory=MlflowSettings)
    config_file: str = Field("", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _sources_default_from_the_catalogue(cls, data: Any) -> Any:
        # A table the file does not name is read as the catalogue says, so adding a system table
        # needs no change here (docs/system-tables.md).
        if isinstance(data, dict):
            runtime = data.get("runtime")
            sources = dict(data.get("sources") or {})
            for name, table in SYSTEM_TABLES.items():
                if name not in sources and runtime in ("local", "databricks"):
                    sources[name] = default_source(table, runtime)
            data = {**data, "sources": sources}
        return data

    @field_validator("sources")
    @classmethod
    def _every_source_is_a_system_table(cls, value: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        unknown = [t for t in value if t not in SYSTEM_TABLES]
        if unknown:
            raise ValueError(f"unknown system table(s): {', '.join(unknown)}; known: {', '.join(SYSTEM_TABLES)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment variables win over the YAML file, which arrives as init values.
        return (env_settings, init_settings)

    def source(self, system_table: str) -> SourceSettings:
        return self.sources[system_table]


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand(value: Any, key: str, file: Path) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, f"{key}.{k}" if key else str(k), file) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{key}[{i}]", file) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ and os.environ[name] != "":
            return os.environ[name]
        if default is not None:
            return os.path.expanduser(default)
        raise ConfigError(f"{file}: key '{key}': environment variable {name} is not set and has no default")

    return _VAR.sub(repl, value)


def config_dir() -> Path:
    return Path(os.environ.get("LAKESENTINEL_CONFIG_DIR") or SHIPPED_DIR / "config")


def _origin(loc: tuple[Any, ...], file: Path) -> str:
    env_name = ENV_PREFIX + "__".join(str(p) for p in loc)
    for name in os.environ:
        if name.upper() == env_name.upper():
            return f"environment variable {name}"
    return str(file)


def _unknown_overrides() -> list[tuple[str, str]]:
    """``LAKESENTINEL__`` variables that name no setting (pydantic-settings would ignore them silently)."""
    out = []
    for name in sorted(os.environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        model: Any = Settings
        for depth, part in enumerate(parts):
            fields = {k: f for k, f in model.model_fields.items() if not f.exclude}
            if part not in fields:
                known = ", ".join(sorted(fields))
                close = difflib.get_close_matches(part, fields, n=1)
                hint = f"did you mean {ENV_PREFIX}{'__'.join(parts[:depth] + [close[0]]).upper()}? " if close else ""
                out.append((name, f"no setting '{'.'.join(parts[:depth + 1])}' ({hint}known here: {known})"))
                break
            model = _nested_model(fields[part].annotation)
            if model is None:
                break  # a value (or a mapping of free keys) from here on: pydantic checks it
    return out


def _nested_model(annotation: Any) -> Any:
    """The settings model a field holds, if it is one (mappings of models are keyed freely)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_environment(path: Path) -> bool:
    """config/ also holds routes, data-quality and gold files; an environment file names its environment."""
    return any(line.startswith("environment:") for line in path.read_text().splitlines())


def load_settings(environment: str | None = None, directory: Path | None = None) -> Settings:
    """Read, expand and validate ``<directory>/<environment>.yaml``; raise ConfigError on any problem."""
    environment = environment or os.environ.get("LAKESENTINEL_ENV", "local")
    file = (directory or config_dir()) / f"{environment}.yaml"
    if not file.is_file():
        available = sorted(p.stem for p in file.parent.glob("*.yaml") if _is_environment(p))
        raise ConfigError(f"{file}: no such configuration file (environments here: {', '.join(available) or 'none'})")
    try:
        raw = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping of settings at the top level")
    values = _expand(raw, "", file)
    unknown = [f"environment variable {name}: {why}" for name, why in _unknown_overrides()]
    if unknown:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(unknown))
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            key = ".".join(str(p) for p in loc) or "(top level)"
            got = f" (got {err['input']!r})" if err["type"] not in ("missing",) and not isinstance(err["input"], dict) else ""
            problems.append(f"{_origin(loc, file)}: key '{key}': {err['msg']}{got}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None
    settings.config_file = str(file)
    return settings


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings (cached); tests use :func:`load_settings` directly."""
    return load_settings()


def settings_at(home: Path | str, environment: str = "local") -> Settings:
    """Settings of ``environment`` with ``LAKESENTINEL_HOME`` at ``home`` (the variable is restored afterwards):
    independent lakehouses side by side (tests, benchmarks, scenario runs)."""
    old = os.environ.get("LAKESENTINEL_HOME")
    os.environ["LAKESENTINEL_HOME"] = str(home)
    try:
        return load_settings(environment)
    finally:
        if old is None:
            os.environ.pop("LAKESENTINEL_HOME", None)
        else:
            os.environ["LAKESENTINEL_HOME"] = old
