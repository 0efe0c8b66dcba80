"""App settings: ``config/app.yaml``, one section per environment, beside ``config/<env>.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lakesentinel.errors import ConfigError
from lakesentinel.settings import Settings, _expand, config_dir

FILE_NAME = "app.yaml"


class AppSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    query_layer: Literal["spark", "warehouse"] = "spark"
    warehouse_id: str | None = None
    daily_budget: float = Field(1200.0, ge=0)
    cache_ttl_s: float = Field(10.0, ge=0)
    refresh_s: float = Field(5.0, gt=0)
    copilot_endpoint: str | None = None


def load_app_settings(cfg: Settings) -> AppSettings:
    """The section of ``app.yaml`` for ``cfg.environment``; defaults when the file does not exist."""
    path = (Path(cfg.config_file).parent if cfg.config_file else config_dir()) / FILE_NAME
    if not path.is_file():
        return AppSettings()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or cfg.environment not in data:
        raise ConfigError(f"{path}: no section '{cfg.environment}' for this environment")
    section = _expand(data[cfg.environment] or {}, cfg.environment, path)
    try:
        app = AppSettings(**{k: (v if v != "" else None) for k, v in section.items()})
    except ValidationError as exc:
        problems = [f"key '{cfg.environment}.{'.'.join(str(p) for p in e['loc'])}': {e['msg']}"
                    + (f" (got {e['input']!r})" if e["type"] != "missing" else "") for e in exc.errors()]
        raise ConfigError(f"{path}: " + "; ".join(problems)) from None
    if app.query_layer == "warehouse" and not app.warehouse_id:
        raise ConfigError(f"{path}: key '{cfg.environment}.warehouse_id': the warehouse query layer needs a "
                          "warehouse id (or DATABRICKS_WAREHOUSE_ID)")
    return app
