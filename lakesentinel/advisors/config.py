"""Advisor thresholds: ``config/advisors.yaml`` beside ``config/<env>.yaml`` (shipped in the wheel).

A wrong key or value stops the advisor with a message naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lakesentinel.errors import ConfigError
from lakesentinel.settings import Settings, config_dir

FILE_NAME = "advisors.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WarehouseThresholds(_Section):
    queued_share: float = Field(0.10, gt=0, le=1)
    low_utilization: float = Field(0.30, gt=0, le=1)
    auto_stop_minutes: int = Field(10, ge=1)
    target_auto_stop_minutes: int = Field(5, ge=1)
    serverless_price_ratio: float = Field(1.27, gt=0)
    bursty_busy_share: float = Field(0.5, gt=0, le=1)
    spill_share: float = Field(0.05, gt=0, le=1)
    top_statements: int = Field(5, ge=1)
    expensive_share: float = Field(0.25, gt=0, le=1)


class WorkflowThresholds(_Section):
    jobs_price_ratio: float = Field(0.27, gt=0, le=1)
    min_failed_share: float = Field(0.10, gt=0, le=1)
    recent_days: int = Field(7, ge=1)
    regression_ratio: float = Field(1.5, gt=1)
    min_runs: int = Field(3, ge=1)
    fixed_workers: int = Field(8, ge=1)
    autoscale_saving: float = Field(0.30, gt=0, lt=1)
    required_tags: list[str] = ["cost_center", "team"]


class TableThresholds(_Section):
    unused_days: int = Field(30, ge=1)
    freshness_hours: float = Field(48, gt=0)
    small_file_bytes: int = Field(32 * 1024 * 1024, gt=0)
    min_files: int = Field(100, ge=1)
    optimize_weeks: int = Field(4, ge=1)
    large_table_bytes: int = Field(100 * 1024**3, gt=0)


class AdvisorSettings(_Section):
    lookback_days: int = Field(14, ge=1, le=365)
    measure_days: int = Field(14, ge=1, le=365)
    min_monthly_saving: float = Field(5.0, ge=0)
    warehouses: WarehouseThresholds = WarehouseThresholds()
    workflows: WorkflowThresholds = WorkflowThresholds()
    tables: TableThresholds = TableThresholds()


def advisors_file(cfg: Settings) -> Path:
    directory = Path(cfg.config_file).parent if cfg.config_file else config_dir()
    path = directory / FILE_NAME
    return path if path.is_file() else config_dir() / FILE_NAME


def load_advisor_settings(cfg: Settings, path: Path | None = None) -> AdvisorSettings:
    """The thresholds of ``advisors.yaml``; defaults when there is no such file."""
    path = path or advisors_file(cfg)
    if not path.is_file():
        return AdvisorSettings()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of advisor settings")
    try:
        return AdvisorSettings(**data)
    except ValidationError as exc:
        problems = [f"key '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}"
                    + (f" (got {e['input']!r})" if e["type"] != "missing" else "") for e in exc.errors()]
        raise ConfigError(f"{path}: " + "; ".join(problems)) from None
