"""SQL warehouses at work: state events, the statements users run, and the usage they bill."""

from __future__ import annotations

import numpy as np

from lakesentinel.simulator.billing import UsageFactory, features, metadata
from lakesentinel.simulator.clock import HOUR, MINUTE, SECOND
from lakesentinel.simulator.effects import Effects
from lakesentinel.simulator.ids import Ids
from lakesentinel.simulator.organisation import REGION_SUFFIX, WAREHOUSE_SIZES, Organisation, Warehouse
from lakesentinel.simulator.seasonality import activity

SKU_BY_TYPE = {"SERVERLESS": f"PREMIUM_SERVERLESS_SQL_COMPUTE_{REGION_SUFFIX}",
               "PRO": f"PREMIUM_SQL_PRO_COMPUTE_{REGION_SUFFIX}", "CLASSIC": "PREMIUM_SQL_COMPUTE"}
CLIENTS = (("Databricks SQL Editor", None), ("Databricks SQL Dashboard", None), ("Tableau", "ODBC"),
           ("Power BI", "ODBC"), ("dbt", "databricks-sql-connector"), ("Looker", "JDBC"))
STATEMENTS = (("SELECT", 80), ("INSERT", 6), ("MERGE", 4), ("CREATE", 3), ("SHOW", 4), ("DESCRIBE", 3))
_STMT_P = np.array([w for _, w in STATEMENTS], dtype=float) / sum(w for _, w in STATEMENTS)


def _lag(rng: np.random.Generator, lo: int = 5, hi: int = 30) -> int:
    return int(rng.integers(lo, hi)) * MINUTE


class WarehouseDay:
    def __init__(self, org: Organisation, ids: Ids, rng: np.random.Generator, usage: UsageFactory,
                 effects: Effects):
        self.org, self.ids, self.rng, self.usage, self.effects = org, ids, rng, usage, effects

    def day(self, day_start: int) -> dict[str, list[dict]]:
        out = {"compute.warehouse_events": [], "query.history": [], "billing.usage": []}
        for wh in self.org.warehouses:
            self._warehouse(wh, day_start, out)
        return out

    def _warehouse(self, wh: Warehouse, day_start: int, out: dict) -> None:
        rng, org, fx = self.rng, self.org, self.effects
        clusters_running = 0
        for h in range(24):
            t = day_start + h * HOUR
            version = wh.at(t)
            if version is None or version["delete_time"] is not None:
                continue
            mid = t + HOUR // 2
            surge = fx.value("warehouse_spend", wh.warehouse_id, mid)
            queueing = fx.value("warehouse_queueing", wh.warehouse_id, mid)
            slow = fx.value("warehouse_latency", wh.warehouse_id, mid)
            load = wh.load * activity(t, org.start, org.profile.growth_per_day)
            if surge is not None:
                load *= 3
            if queueing is not None:
                load *= 4
            n = int(rng.poisson(load))
            if n == 0:
                if clusters_running:
                    stop = t + int(version["auto_stop_minutes"]) * MINUTE
                    self._event(wh, "STOPPING", clusters_running, stop, out)
                    self._event(wh, "STOPPED", 0, stop + MINUTE, out)
                    clusters_running = 0
                continue
            starts = np.sort(t + rng.integers(0, HOUR, size=n))
            cold = clusters_running == 0
            if cold:
                self._event(wh, "STARTING", 0, int(starts[0]) - 20 * SECOND, out)
                self._event(wh, "RUNNING", 1, int(starts[0]) + 15 * SECOND, out)
                clusters_running = 1
            need = 1 + int(load // 120)
            if queueing is not None:
                need = version["max_clusters"]
            need = max(version["min_clusters"], min(version["max_clusters"], need))
            while clusters_running < need:
                clusters_running += 1
                self._event(wh, "SCALED_UP", clusters_running, t + int(rng.integers(1, 10)) * MINUTE, out)
            while clusters_running > need:
                clusters_running -= 1
                self._event(wh, "SCALED_DOWN", clusters_running, t + int(rng.integers(1, 10)) * MINUTE, out)
            for i, s in enumerate(starts):
                out["query.history"].append(self._query(wh, int(s), cold and i == 0, slow, queueing))
            fraction = 1.0 if (surge is not None or queueing is not None) else float(rng.uniform(0.5, 1.0))
            dbus = WAREHOUSE_SIZES[version["warehouse_size"]] * clusters_running * fraction
            if surge is not None:
                dbus *= float(surge)
            wtype = version["warehouse_type"]
            out["billing.usage"].append(self.usage.row(
                workspace_id=wh.workspace_id, sku=SKU_BY_TYPE[wtype], start=t, end=t + HOUR, dbus=dbus,
                metadata=metadata(warehouse_id=wh.warehouse_id),
                identity={"run_as": None, "created_by": None, "owned_by": wh.owner.name, "run_by": None},
                tags=version["tags"],
                product_features=features(sql_tier="CLASSIC" if wtype == "CLASSIC" else "PRO",
                                          is_serverless=wtype == "SERVERLESS", is_photon=True)))
        if clusters_running:
            end = day_start + 24 * HOUR - MINUTE
            self._event(wh, "STOPPING", clusters_running, end, out)
            self._event(wh, "STOPPED", 0, end + 30 * SECOND, out)

    def _event(self, wh: Warehouse, kind: str, clusters: int, t: int, out: dict) -> None:
        out["compute.warehouse_events"].append({
            "account_id": self.org.account_id, "workspace_id": wh.workspace_id, "warehouse_id": wh.warehouse_id,
            "event_type": kind, "cluster_count": clusters, "event_time": t, "_available_at": t + _lag(self.rng, 2, 15),
        })

    def _query(self, wh: Warehouse, start: int, cold: bool, slow, queueing) -> dict:
        rng = self.rng
        user = wh.users[int(rng.integers(0, len(wh.users)))]
        stmt = STATEMENTS[int(rng.choice(len(STATEMENTS), p=_STMT_P))][0]
        cached = stmt == "SELECT" and rng.random() < 0.1
        compile_ms = int(rng.integers(30, 400))
        exec_ms = 5 if cached else int(rng.lognormal(np.log(wh.median_ms), 0.9))
        spill = 0
        if not cached and rng.random() < 0.02:
            spill = int(rng.lognormal(np.log(2e9), 1.0))
            exec_ms = int(exec_ms * 1.5)
        if slow is not None and not cached:
            exec_ms = int(exec_ms * float(slow))
        wait_compute = int(rng.integers(5_000, 40_000)) if cold else 0
        wait_capacity = 0
        if queueing is not None:
            wait_capacity = int(rng.integers(20_000, 180_000))
        elif rng.random() < 0.01:
            wait_capacity = int(rng.integers(100, 2_000))
        total = compile_ms + wait_compute + wait_capacity + exec_ms
        end = start + total * 1000
        status = "FINISHED"
        r = rng.random()
        if r < 0.03:
            status = "FAILED"
        elif r < 0.04:
            status = "CANCELED"
        client, driver = CLIENTS[int(rng.integers(0, len(CLIENTS)))]
        read_bytes = 0 if cached else int(rng.lognormal(np.log(5e7), 1.5))
        statement_id = self.ids.uuid()
        dashboard = client == "Databricks SQL Dashboard"
        return {
            "account_id": self.org.account_id, "workspace_id": wh.workspace_id, "statement_id": statement_id,
            "executed_by": user.name, "session_id": self.ids.uuid(), "execution_status": status,
            "compute": {"type": "WAREHOUSE", "cluster_id": None, "warehouse_id": wh.warehouse_id},
            "executed_by_user_id": user.user_id,
            "statement_text": f"{stmt} ... FROM main.{user.team.replace('-', '_')}.t{int(rng.integers(0, 60))}",
            "statement_type": stmt,
            "error_message": "[TABLE_OR_VIEW_NOT_FOUND] The table cannot be found." if status == "FAILED" else None,
            "client_application": client, "client_driver": driver, "total_duration_ms": total,
            "waiting_for_compute_duration_ms": wait_compute, "waiting_at_capacity_duration_ms": wait_capacity,
            "execution_duration_ms": exec_ms, "compilation_duration_ms": compile_ms,
            "total_task_duration_ms": int(exec_ms * rng.uniform(0.5, 8)),
            "result_fetch_duration_ms": int(rng.integers(5, 300)), "start_time": start, "end_time": end,
            "update_time": end, "read_partitions": int(rng.integers(0, 50)), "pruned_files": int(rng.integers(0, 500)),
            "read_files": int(rng.integers(0, 200)), "read_rows": int(read_bytes // 120),
            "produced_rows": int(rng.integers(0, 5000)), "read_bytes": read_bytes,
            "read_io_cache_percent": int(rng.integers(0, 101)), "from_result_cache": cached,
            "spilled_local_bytes": spill, "written_bytes": int(rng.lognormal(np.log(1e6), 1)) if stmt in ("INSERT", "MERGE", "CREATE") else 0,
            "shuffle_read_bytes": int(read_bytes * rng.uniform(0, 0.5)),
            "query_source": {"job_info": None, "legacy_dashboard_id": None,
                             "dashboard_id": self.ids.hex(32) if dashboard else None, "alert_id": None,
                             "notebook_id": None, "sql_query_id": self.ids.uuid() if client == "Databricks SQL Editor" else None,
                             "genie_space_id": None, "pipeline_info": None},
            "executed_as_user_id": user.user_id, "executed_as": user.name, "written_rows": 0, "written_files": 0,
            "cache_origin_statement_id": statement_id, "query_parameters": None,
            "query_tags": {"team": user.team} if client == "dbt" else None,
            "pruned_files_bytes": int(rng.integers(0, 10**8)), "read_files_bytes": read_bytes,
            "_available_at": end + _lag(rng),
        }
