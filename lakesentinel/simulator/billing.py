"""Usage records (``billing.usage``) and the late corrections Databricks appends to them."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from lakesentinel.simulator.clock import HOUR, MINUTE, day_number
from lakesentinel.simulator.ids import Ids
from lakesentinel.simulator.organisation import CLOUD, SKUS, Organisation

_Q = Decimal("0.000001")

_FEATURES_NONE = {
    "jobs_tier": None, "sql_tier": None, "dlt_tier": None, "is_serverless": None, "is_photon": None,
    "serving_type": None, "networking": None, "ai_runtime": None, "model_serving": None, "ai_gateway": None,
    "performance_target": None, "serverless_gpu": None, "agent_bricks": None, "ai_functions": None,
    "apps": None, "lakeflow_connect": None, "lakebase": None, "ai_bi_genie": None, "genie": None,
}


def features(**values) -> dict:
    return dict(_FEATURES_NONE, **values)


def quantity(value: float) -> Decimal:
    return Decimal(f"{value:.6f}").quantize(_Q)


def hour_slices(start: int, end: int):
    """(slice_start, slice_end) pieces of [start, end) cut at clock hours."""
    t = start
    while t < end:
        nxt = min(end, (t // HOUR + 1) * HOUR)
        yield t, nxt
        t = nxt


class UsageFactory:
    def __init__(self, org: Organisation, ids: Ids, rng: np.random.Generator):
        self.org, self.ids, self.rng = org, ids, rng

    def row(self, *, workspace_id: str, sku: str, start: int, end: int, dbus: float, metadata: dict,
            identity: dict | None = None, tags: dict | None = None, product_features: dict | None = None,
            usage_type: str = "COMPUTE_TIME", product: str | None = None) -> dict:
        sku_product, unit, _, _ = SKUS[sku]
        product = product or sku_product
        # ORIGINAL records land hours after the usage window closes (docs: typically within 12 hours).
        available = end + int(self.rng.integers(60, 240)) * MINUTE
        return {
            "record_id": self.ids.uuid(), "account_id": self.org.account_id, "workspace_id": workspace_id,
            "sku_name": sku, "cloud": CLOUD, "usage_start_time": start, "usage_end_time": end,
            "usage_date": day_number(start), "custom_tags": dict(tags or {}), "usage_unit": unit,
            "usage_quantity": quantity(dbus), "usage_metadata": metadata,
            "identity_metadata": identity or {"run_as": None, "created_by": None, "owned_by": None, "run_by": None},
            "record_type": "ORIGINAL", "ingestion_date": day_number(available), "billing_origin_product": product,
            "product_features": product_features or features(), "usage_type": usage_type,
            "_available_at": available,
        }

    def corrections(self, originals: list[dict], share: float = 0.01) -> list[dict]:
        """RETRACTION + RESTATEMENT pairs for a share of records, arriving one to four days later."""
        out = []
        if not originals:
            return out
        n = int(self.rng.binomial(len(originals), share))
        for i in self.rng.choice(len(originals), size=n, replace=False):
            orig = originals[int(i)]
            arrives = orig["_available_at"] + int(self.rng.integers(24, 96)) * HOUR
            retraction = dict(orig, record_id=self.ids.uuid(), record_type="RETRACTION",
                              usage_quantity=-orig["usage_quantity"], ingestion_date=day_number(arrives),
                              _available_at=arrives)
            out.append(retraction)
            if self.rng.random() < 0.85:  # otherwise the record should never have existed
                factor = Decimal(str(round(float(self.rng.uniform(0.6, 1.2)), 3)))
                out.append(dict(orig, record_id=self.ids.uuid(), record_type="RESTATEMENT",
                                usage_quantity=(orig["usage_quantity"] * factor).quantize(_Q),
                                ingestion_date=day_number(arrives), _available_at=arrives + MINUTE))
        return out


def metadata(**values) -> dict:
    from lakesentinel.sources.system_tables import USAGE

    fields = [f.name for f in USAGE.schema["usage_metadata"].dataType.fields]
    return {f: values.get(f) for f in fields}
