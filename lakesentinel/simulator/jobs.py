"""Job runs: run and task-run timelines, the job clusters they create, and the usage they bill."""

from __future__ import annotations

import numpy as np

from lakesentinel.simulator.billing import UsageFactory, features, hour_slices, metadata
from lakesentinel.simulator.clock import HOUR, MINUTE, SECOND
from lakesentinel.simulator.effects import Effects
from lakesentinel.simulator.ids import Ids
from lakesentinel.simulator.organisation import REGION_SUFFIX, Job, Organisation

FAILURE_CODES = (("RUN_EXECUTION_ERROR", "CLIENT_ERROR"), ("DRIVER_ERROR", "CLIENT_ERROR"),
                 ("CLUSTER_ERROR", "CLOUD_FAILURE"), ("LIBRARY_INSTALLATION_ERROR", "CLIENT_ERROR"),
                 ("STORAGE_ACCESS_ERROR", "CLIENT_ERROR"))
SERVERLESS_SKU = f"PREMIUM_JOBS_SERVERLESS_COMPUTE_{REGION_SUFFIX}"


def _lag(rng: np.random.Generator) -> int:
    return int(rng.integers(2, 15)) * MINUTE


class JobRunner:
    def __init__(self, org: Organisation, ids: Ids, rng: np.random.Generator, usage: UsageFactory,
                 effects: Effects):
        self.org, self.ids, self.rng, self.usage, self.effects = org, ids, rng, usage, effects

    def day(self, day_start: int) -> tuple[dict[str, list[dict]], dict[str, set[int]]]:
        """All runs scheduled on the day; returns rows per table and hours busy per all-purpose cluster."""
        out = {k: [] for k in ("lakeflow.job_run_timeline", "lakeflow.job_task_run_timeline",
                               "compute.clusters", "billing.usage")}
        busy: dict[str, set[int]] = {}
        for job in self.org.jobs:
            period = job.period_hours * HOUR
            first = day_start + (job.offset_min * MINUTE) % period
            for scheduled in range(first, day_start + 24 * HOUR, period):
                version = job.at(scheduled)
                if version is None or version["delete_time"] is not None or version["paused"]:
                    continue
                self._run(job, version, scheduled, out, busy)
        return out, busy

    def _run(self, job: Job, version: dict, scheduled: int, out: dict, busy: dict) -> None:
        rng = self.rng
        run_id = self.ids.numeric(16)
        forced_fail = self.effects.value("job_fail", job.job_id, scheduled) is not None
        fail = forced_fail or rng.random() < job.failure_rate
        attempts = [fail]
        if fail and rng.random() < 0.3:  # a repair attempt after the failure
            attempts.append(forced_fail or rng.random() < 0.2)
        t = scheduled
        for attempt, failed in enumerate(attempts):
            t = self._attempt(job, version, run_id, t, failed, attempt, out, busy) + MINUTE

    def _attempt(self, job: Job, version: dict, run_id: str, scheduled: int, failed: bool, attempt: int,
                 out: dict, busy: dict) -> int:
        rng, org = self.rng, self.org
        queue = int(rng.integers(0, 30)) * SECOND
        setup = {"job_cluster": int(rng.integers(150, 400)), "serverless": int(rng.integers(5, 40)),
                 "all_purpose": int(rng.integers(1, 6))}[job.compute] * SECOND
        execution = int(job.mean_minutes * 60 * rng.lognormal(0, 0.25) * SECOND)
        if failed:
            execution = int(execution * rng.uniform(0.1, 0.9))
        cleanup = int(rng.integers(5, 40)) * SECOND
        start = scheduled
        run_end = start + queue + setup + execution + cleanup
        exec_start = start + queue + setup

        cluster_id, compute = None, []
        if job.compute == "job_cluster":
            cluster_id = self.ids.cluster_id()
            tags = {"team": job.team}
            created = start + queue
            row = org.cluster_row(cluster_id=cluster_id, workspace_id=job.workspace_id,
                                  name=f"job-{job.job_id}-run-{run_id}", owner=job.run_as.name,
                                  create_time=created, change_time=created, driver=job.node_type,
                                  worker=job.node_type, workers=job.workers, tags=tags, source="JOB",
                                  dbr="17.3.x-photon-scala2.13" if job.photon else "17.3.x-scala2.13",
                                  mode="SINGLE_USER")
            out["compute.clusters"].append(dict(row, _available_at=created + _lag(rng)))
            out["compute.clusters"].append(dict(row, delete_time=run_end, change_time=run_end,
                                                change_date=run_end // (24 * HOUR),
                                                _available_at=run_end + _lag(rng)))
            compute = [{"type": "CLUSTER", "cluster_id": cluster_id, "warehouse_id": None}]
            sku = org.sku_for_cluster(row, "job")
            for s, e in hour_slices(start + queue, run_end):
                dbus = (e - s) / HOUR * (1 + job.workers) * org.dbu_rate(job.node_type)
                out["billing.usage"].append(self.usage.row(
                    workspace_id=job.workspace_id, sku=sku, start=s, end=e, dbus=dbus,
                    metadata=metadata(cluster_id=cluster_id, job_id=job.job_id, job_run_id=run_id,
                                      node_type=job.node_type, job_name=version["name"]),
                    identity={"run_as": job.run_as.name, "created_by": None, "owned_by": None, "run_by": None},
                    tags=tags, product_features=features(jobs_tier="CLASSIC", is_serverless=False,
                                                         is_photon=job.photon)))
        elif job.compute == "serverless":
            compute = [{"type": "SERVERLESS_COMPUTE", "cluster_id": None, "warehouse_id": None}]
            for s, e in hour_slices(exec_start, run_end):
                dbus = (e - s) / HOUR * job.dbu_per_hour
                out["billing.usage"].append(self.usage.row(
                    workspace_id=job.workspace_id, sku=SERVERLESS_SKU, start=s, end=e, dbus=dbus,
                    metadata=metadata(job_id=job.job_id, job_run_id=run_id, job_name=version["name"]),
                    identity={"run_as": job.run_as.name, "created_by": None, "owned_by": None, "run_by": None},
                    tags=version["tags"], product_features=features(
                        jobs_tier=None, is_serverless=True, is_photon=True, performance_target="STANDARD")))
        else:
            cluster_id = job.all_purpose_cluster
            compute = [{"type": "CLUSTER", "cluster_id": cluster_id, "warehouse_id": None}]
            hours = busy.setdefault(cluster_id, set())
            for s, _ in hour_slices(start, run_end):
                hours.add(s - s % HOUR)

        code, ttype = ("SUCCESS", "SUCCESS")
        if failed:
            code, ttype = FAILURE_CODES[int(rng.integers(0, len(FAILURE_CODES)))]
        base = {
            "account_id": org.account_id, "workspace_id": job.workspace_id, "job_id": job.job_id,
            "run_id": run_id, "trigger_type": "CRON" if attempt == 0 else "ONETIME_RETRY", "run_type": "JOB_RUN",
            "run_name": version["name"], "compute_ids": [], "job_parameters": {},
            "source_task_run_id": None, "root_task_run_id": None, "compute": compute,
        }
        final = {
            "result_state": "FAILED" if failed else "SUCCEEDED", "termination_code": code,
            "termination_type": ttype, "setup_duration_seconds": setup // SECOND,
            "queue_duration_seconds": queue // SECOND, "run_duration_seconds": (run_end - start) // SECOND,
            "cleanup_duration_seconds": cleanup // SECOND, "execution_duration_seconds": execution // SECOND,
        }
        out["lakeflow.job_run_timeline"].extend(self._slices(base, start, run_end, final))

        # Tasks run one after another; a failure stops the chain at a random task.
        fail_at = int(rng.integers(0, len(job.tasks))) if failed else None
        t = exec_start
        for k, task in enumerate(job.tasks):
            if fail_at is not None and k > fail_at:
                break
            duration = max(SECOND, int(execution * task.share))
            task_end = t + duration
            task_failed = fail_at == k
            task_base = {
                "account_id": org.account_id, "workspace_id": job.workspace_id, "job_id": job.job_id,
                "run_id": self.ids.numeric(16), "job_run_id": run_id, "parent_run_id": run_id,
                "task_key": task.task_key, "compute_ids": [cluster_id] if cluster_id else [],
                "compute": compute, "task_parameters": {},
            }
            task_final = {
                "result_state": "FAILED" if task_failed else "SUCCEEDED",
                "termination_code": code if task_failed else "SUCCESS",
                "termination_type": ttype if task_failed else "SUCCESS",
                "setup_duration_seconds": (setup if k == 0 else 0) // SECOND,
                "cleanup_duration_seconds": 0, "execution_duration_seconds": duration // SECOND,
            }
            out["lakeflow.job_task_run_timeline"].extend(self._slices(task_base, t, task_end, task_final))
            t = task_end
        return run_end

    def _slices(self, base: dict, start: int, end: int, final: dict) -> list[dict]:
        """Immutable rows of at most an hour each; outcome columns only on the last."""
        rows = []
        t = start
        while t < end:
            nxt = min(end, t + HOUR)
            last = nxt == end
            row = dict(base, period_start_time=t, period_end_time=nxt, _available_at=nxt + _lag(self.rng))
            for key, value in final.items():
                row[key] = value if last else None
            rows.append(row)
            t = nxt
        return rows
