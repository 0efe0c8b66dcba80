"""All-purpose clusters at work: hours up, the usage they bill, and the audit trail of starts."""

from __future__ import annotations

import numpy as np

from lakesentinel.simulator.audit import AuditFactory
from lakesentinel.simulator.billing import UsageFactory, features, metadata
from lakesentinel.simulator.clock import HOUR, MINUTE
from lakesentinel.simulator.effects import Effects
from lakesentinel.simulator.organisation import Organisation
from lakesentinel.simulator.seasonality import activity


def all_purpose_day(org: Organisation, day_start: int, effects: Effects, busy_hours: dict[str, set[int]],
                    usage: UsageFactory, audit: AuditFactory, rng: np.random.Generator) -> dict[str, list[dict]]:
    """Usage for every all-purpose cluster that is up during an hour of the day.

    ``busy_hours`` holds hours (as hour-start microseconds) when jobs run on a cluster, which keeps
    the cluster up then.
    """
    out: dict[str, list[dict]] = {"billing.usage": [], "access.audit": []}
    for cluster in org.clusters:
        first = cluster.versions[0]
        if first["cluster_source"] not in ("UI", "API"):
            continue
        was_up = False
        for h in range(24):
            t = day_start + h * HOUR
            version = cluster.at(t)
            if version is None or (version["delete_time"] is not None and version["delete_time"] <= t):
                was_up = False
                continue
            runaway = effects.value("runaway_cluster", cluster.cluster_id, t + HOUR // 2)
            job_busy = t in busy_hours.get(cluster.cluster_id, ())
            p_up = cluster.busy * activity(t, org.start, org.profile.growth_per_day)
            up = runaway is not None or job_busy or rng.random() < min(0.95, p_up)
            if not up:
                was_up = False
                continue
            if runaway is not None:
                workers, fraction = float(runaway), 1.0
            else:
                lo = version["min_autoscale_workers"] or version["worker_count"] or 1
                hi = max(lo, version["max_autoscale_workers"] or lo)
                workers = float(rng.integers(lo, hi + 1))
                fraction = 1.0 if job_busy else float(rng.uniform(0.3, 1.0))
            start = t if (was_up or fraction == 1.0) else t + int((1 - fraction) * HOUR)
            end = t + HOUR
            dbus = (end - start) / HOUR * (1 + workers) * org.dbu_rate(version["worker_node_type"])
            sku = org.sku_for_cluster(version, "all_purpose")
            out["billing.usage"].append(usage.row(
                workspace_id=cluster.workspace_id, sku=sku, start=start, end=end, dbus=dbus,
                metadata=metadata(cluster_id=cluster.cluster_id, node_type=version["worker_node_type"]),
                tags=version["tags"],
                product_features=features(is_serverless=False, is_photon="(PHOTON)" in sku),
            ))
            if not was_up:
                out["access.audit"].append(audit.row(
                    t=max(day_start, start - int(rng.integers(2, 6)) * MINUTE), principal=cluster.owner,
                    service="clusters", action="start", params={"cluster_id": cluster.cluster_id},
                    workspace_id=cluster.workspace_id))
            was_up = True
    return out
