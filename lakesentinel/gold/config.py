"""Gold build settings: ``config/gold.yaml``, one section per environment.

The file sits beside ``config/<env>.yaml`` and is read for the running environment; a missing section or
a wrong key stops the build with a message naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lakesentinel.errors import ConfigError
from lakesentinel.settings import Settings, config_dir

FILE_NAME = "gold.yaml"


class GoldSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # liquid: CLUSTER BY as the DDL declares it; partition: PARTITIONED BY its first column, Z-ORDER the rest.
    layout: Literal["liquid", "partition"] = "partition"
    late_window_days: int = Field(2, ge=0, le=31)
    interval_s: float = Field(300.0, gt=0)
    # Tasks of one phase (dimensions, then facts) built side by side: each is mostly short Spark jobs
    # and Delta commits, so a few in flight keep the cores busy where one alone leaves them waiting.
    parallel_tasks: int = Field(3, ge=1, le=32)


def gold_settings_file(cfg: Settings) -> Path:
    directory = Path(cfg.config_file).parent if cfg.config_file else config_dir()
    return directory / FILE_NAME


def load_gold_settings(cfg: Settings) -> GoldSettings:
    """The section of ``gold.yaml`` for ``cfg.environment``; defaults when the file does not exist."""
    path = gold_settings_file(cfg)
    if not path.is_file():
        return GoldSettings()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of environment -> gold settings")
    if cfg.environment not in data:
        raise ConfigError(f"{path}: no section '{cfg.environment}' for this environment "
                          f"(sections: {', '.join(sorted(data)) or 'none'})")
    section = data[cfg.environment] or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: key '{cfg.environment}': expected a mapping of settings, got {section!r}")
    try:
        return GoldSettings(**section)
    except ValidationError as exc:
        problems = [f"key '{cfg.environment}.{'.'.join(str(p) for p in e['loc'])}': {e['msg']}"
                    + (f" (got {e['input']!r})" if e["type"] != "missing" else "") for e in exc.errors()]
        raise ConfigError(f"{path}: " + "; ".join(problems)) from None
