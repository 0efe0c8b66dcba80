"""Fixtures for the detectors: the shipped specs, spec fixtures on disk, and a spec built from YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakesentinel.detectors.spec import DetectorSpec, load_specs, parse_spec
from lakesentinel.settings import SHIPPED_DIR

TESTDATA = Path(__file__).parent / "testdata"
SHIPPED = SHIPPED_DIR / "rules" / "detectors"


@pytest.fixture(scope="session")
def shipped_specs() -> list[DetectorSpec]:
    return load_specs(SHIPPED)


def make_spec(text: str) -> DetectorSpec:
    """A spec from YAML text, for tests that need a particular configuration."""
    return parse_spec(text, "test.yaml")


@pytest.fixture
def hourly_cost_spec() -> DetectorSpec:
    """Workspace x SKU hourly list cost with a robust baseline: quick to warm, easy to reason about."""
    return make_spec("""
id: test.hourly_cost
domain: cost
metric:
  source: billing.usage
  entity: [workspace_id, sku_name]
  entity_type: sku
  window: {size: 1h}
  features: [{name: list_cost, measure: list_cost, agg: sum}]
model: {type: robust_quantile, params: {min_scale: 0.5}}
warmup: {windows: 3}
alert:
  severity: {low: 0.5, high: 0.9}
  title: "{sku_name} in {workspace_id}: {observed:.2f} USD, expected {expected:.2f}"
""")
