"""One run of the advisors: each advisor's findings recorded, then the savings of accepted ones measured."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from pyspark.sql import SparkSession

from lakesentinel.advisors.config import AdvisorSettings, load_advisor_settings
from lakesentinel.advisors.findings import ADVISORS, AdvisorError, measure_savings, read_findings, record
from lakesentinel.settings import Settings


@dataclass
class AdvisorRun:
    advisor: str
    as_of: datetime | None
    detected: int
    run_id: str | None


def advisor_module(name: str):
    if name not in ADVISORS:
        raise AdvisorError(f"unknown advisor {name!r}; one of {', '.join(ADVISORS)}")
    return import_module(f"lakesentinel.advisors.{name}")


def run_advisors(spark: SparkSession, cfg: Settings, advisors: tuple[str, ...] = ADVISORS, now: datetime | None = None,
                 settings: AdvisorSettings | None = None) -> list[AdvisorRun]:
    """Run ``advisors`` over gold, MERGE their findings, and measure the savings of accepted findings."""
    from lakesentinel.clock import utcnow

    now = now or utcnow()
    settings = settings or load_advisor_settings(cfg)
    runs = []
    for name in advisors:
        window, findings = advisor_module(name).advise(spark, cfg, settings)
        as_of = window.end if window is not None else None
        run_id = record(spark, cfg, name, findings, as_of, now) if as_of is not None else None
        runs.append(AdvisorRun(name, as_of, len(findings), run_id))
    measure_savings(spark, cfg, settings.measure_days, now)
    return runs


def advise_and_read(spark: SparkSession, cfg: Settings, advisor: str | None, now: datetime | None = None) -> tuple[list[AdvisorRun], list[dict]]:
    runs = run_advisors(spark, cfg, (advisor,) if advisor else ADVISORS, now)
    return runs, read_findings(spark, cfg, advisor)
