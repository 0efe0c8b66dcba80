"""Declarative pipelines at work: the usage their updates bill."""

from __future__ import annotations

import numpy as np

from lakesentinel.simulator.billing import UsageFactory, features, metadata
from lakesentinel.simulator.clock import HOUR
from lakesentinel.simulator.ids import Ids
from lakesentinel.simulator.jobs import SERVERLESS_SKU
from lakesentinel.simulator.organisation import Organisation


def pipelines_day(org: Organisation, day_start: int, ids: Ids, rng: np.random.Generator,
                  usage: UsageFactory) -> dict[str, list[dict]]:
    rows: list[dict] = []
    for p in org.pipelines:
        update_id = ids.uuid()
        hours = range(24) if p.continuous else [p.run_hour]
        for h in hours:
            t = day_start + h * HOUR
            version = p.at(t)
            if version is None or version["delete_time"] is not None:
                continue
            dbus = p.dbu_per_hour * float(rng.uniform(0.6, 1.0))
            sku = SERVERLESS_SKU if p.serverless else f"PREMIUM_DLT_{p.edition}_COMPUTE"
            rows.append(usage.row(
                workspace_id=p.workspace_id, sku=sku, start=t, end=t + HOUR, dbus=dbus, product="DLT",
                metadata=metadata(dlt_pipeline_id=p.pipeline_id, dlt_update_id=update_id,
                                  cluster_id=p.cluster_id, node_type=None if p.serverless else "m5d.xlarge"),
                identity={"run_as": p.run_as.name, "created_by": None, "owned_by": None, "run_by": None},
                tags=version["tags"],
                product_features=features(dlt_tier=p.edition, is_serverless=p.serverless, is_photon=True)))
    return {"billing.usage": rows}
