"""Injected incidents: each scenario changes what the organisation does and records ground truth.

A scenario picks its entity and window, registers effects that the generators honour (a cluster
left running large, a warehouse slowed down, a job made to fail), adds the rows an attacker or a
mistake would leave (audit events, a new untagged job), and returns one ground-truth record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lakesentinel.simulator.audit import AuditFactory
from lakesentinel.simulator.clock import DAY, HOUR, MINUTE
from lakesentinel.simulator.effects import Effects
from lakesentinel.simulator.ids import Ids
from lakesentinel.simulator.organisation import Organisation, Principal


@dataclass
class GroundTruth:
    scenario_id: str
    scenario_type: str
    domain: str
    start_time: int
    end_time: int
    workspace_id: str
    entity_type: str
    entity_id: str
    entities: dict[str, str]
    description: str

    def row(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Context:
    org: Organisation
    effects: Effects
    audit: AuditFactory
    ids: Ids
    rng: np.random.Generator
    used: set[str] = field(default_factory=set)
    audit_rows: list[dict] = field(default_factory=list)

    def pick_fresh(self, candidates: list, key) -> object | None:
        fresh = [c for c in candidates if key(c) not in self.used]
        if not fresh:
            return None
        chosen = fresh[int(self.rng.integers(0, len(fresh)))]
        self.used.add(key(chosen))
        return chosen

    def user(self) -> Principal:
        return self.pick_fresh([u for u in self.org.users if not u.is_admin], lambda u: u.name)

    def admin(self) -> Principal:
        return self.org.admins[int(self.rng.integers(0, len(self.org.admins)))]

    def spread(self, start: int, n: int, span: int) -> list[int]:
        return sorted(int(start + x) for x in self.rng.integers(0, span, size=n))


class Scenario:
    type: str = ""
    domain: str = ""
    duration: int = HOUR
    hour: int | None = None  # preferred UTC start hour, None = any working hour

    def inject(self, ctx: Context, start: int) -> GroundTruth | None:
        raise NotImplementedError

    def truth(self, ctx: Context, start: int, ws: str, etype: str, eid: str, entities: dict, text: str) -> GroundTruth:
        return GroundTruth(ctx.ids.uuid(), self.type, self.domain, start, start + self.duration, ws, etype, eid,
                           {k: str(v) for k, v in entities.items()}, text)


class RunawayCluster(Scenario):
    type, domain, duration, hour = "runaway_cluster", "cost", 14 * HOUR, 18

    def inject(self, ctx, start):
        org = ctx.org
        candidates = [c for c in org.clusters if c.versions[0]["cluster_source"] in ("UI", "API")]
        cluster = ctx.pick_fresh(candidates, lambda c: c.cluster_id)
        if cluster is None:
            return None
        end = start + self.duration
        prev = cluster.at(start) or cluster.versions[0]
        resized = dict(prev, change_time=start, change_date=start // DAY, min_autoscale_workers=32,
                       max_autoscale_workers=40, auto_termination_minutes=0)
        restored = dict(prev, change_time=end, change_date=end // DAY)
        cluster.versions.extend([resized, restored])
        cluster.versions.sort(key=lambda r: r["change_time"])
        ctx.effects.add("runaway_cluster", cluster.cluster_id, start, end, 36)
        ctx.audit_rows.append(ctx.audit.row(t=start - MINUTE, principal=cluster.owner, service="clusters",
                                            action="edit", params={"cluster_id": cluster.cluster_id,
                                                                   "autotermination_minutes": "0"},
                                            workspace_id=cluster.workspace_id))
        return self.truth(ctx, start, cluster.workspace_id, "cluster", cluster.cluster_id,
                          {"cluster_id": cluster.cluster_id, "owner": cluster.owner.name},
                          "All-purpose cluster resized to 32-40 workers with auto-termination off, left running")


class ServerlessSqlSpendSurge(Scenario):
    type, domain, duration, hour = "serverless_sql_spend_surge", "cost", 6 * HOUR, 9

    def inject(self, ctx, start):
        whs = [w for w in ctx.org.warehouses if w.versions[0]["warehouse_type"] == "SERVERLESS"] or ctx.org.warehouses
        wh = ctx.pick_fresh(whs, lambda w: w.warehouse_id)
        if wh is None:
            return None
        ctx.effects.add("warehouse_spend", wh.warehouse_id, start, start + self.duration, 8.0)
        return self.truth(ctx, start, wh.workspace_id, "warehouse", wh.warehouse_id,
                          {"warehouse_id": wh.warehouse_id}, "Serverless SQL warehouse spend eight times normal")


class UntaggedSpendSurge(Scenario):
    type, domain, duration, hour = "untagged_spend_surge", "cost", 10 * HOUR, 8

    def inject(self, ctx, start):
        org = ctx.org
        ws = org.workspaces[int(ctx.rng.integers(0, len(org.workspaces)))].workspace_id
        job = org.new_job(workspace_id=ws, team="growth", compute="serverless", created=start - 5 * MINUTE,
                          tags={}, mean_minutes=50, period_hours=1, dbu_per_hour=150.0,
                          name="adhoc_backfill_experiment")
        job.failure_rate = 0.0
        job.offset_min = 0
        end = start + self.duration
        job.versions.append(dict(job.versions[-1], change_time=end, delete_time=end))
        job.task_versions.extend(org.task_rows(job, end, delete_time=end))
        org.jobs.append(job)
        ctx.used.add(job.job_id)
        ctx.audit_rows.append(ctx.audit.row(t=start - 5 * MINUTE, principal=job.creator, service="jobs",
                                            action="create", params={"name": job.name}, workspace_id=ws))
        return self.truth(ctx, start, ws, "job", job.job_id, {"job_id": job.job_id},
                          "New job without showback tags burning serverless DBUs every hour")


class BruteForceLogin(Scenario):
    type, domain, duration = "brute_force_login", "security", 20 * MINUTE

    def inject(self, ctx, start):
        user = ctx.user()
        ip = f"198.51.100.{int(ctx.rng.integers(2, 250))}"
        for t in ctx.spread(start, 30, self.duration):
            ctx.audit_rows.append(ctx.audit.row(t=t, principal=user, service="accounts", action="login",
                                                params={"user": user.name}, status=401, ip=ip,
                                                session_id=None))
        return self.truth(ctx, start, user.workspace_ids[0], "user", user.name, {"user": user.name, "ip": ip},
                          "Thirty failed password logins against one user from one outside IP")


class TokenCreationBurst(Scenario):
    type, domain, duration = "token_creation_burst", "security", 15 * MINUTE

    def inject(self, ctx, start):
        user = ctx.user()
        for t in ctx.spread(start, 8, self.duration):
            ctx.audit_rows.append(ctx.audit.row(
                t=t, principal=user, service="accounts", action="generateDbToken",
                params={"tokenExpirationTime": str((t + 90 * DAY) // 1000), "tokenHash": ctx.ids.hex(64)}))
        return self.truth(ctx, start, user.workspace_ids[0], "user", user.name, {"user": user.name},
                          "Eight personal access tokens with 90-day lifetimes created in fifteen minutes")


class OffHoursAdmin(Scenario):
    type, domain, duration, hour = "off_hours_admin", "security", HOUR, 2

    def inject(self, ctx, start):
        admin = ctx.pick_fresh(ctx.org.admins, lambda u: u.name) or ctx.admin()
        target = ctx.user()
        ws = admin.workspace_ids[0]
        times = ctx.spread(start, 7, self.duration)
        events = [("accounts", "setAdmin", {"targetUserName": target.name, "targetUserId": target.user_id,
                                            "endpoint": "adminConsole"}),
                  ("workspace", "workspaceConfEdit", {"workspaceConfKeys": "enableExportNotebook",
                                                      "workspaceConfValues": "true"})]
        events += [("clusters", "changeClusterAcl", {"targetUserId": target.user_id, "aclPermissionSet": "CAN_MANAGE",
                                                     "resourceId": c.cluster_id}) for c in ctx.org.clusters[:3]]
        events += [("jobs", "changeJobAcl", {"targetUserId": target.user_id, "aclPermissionSet": "IS_OWNER",
                                             "resourceId": j.job_id}) for j in ctx.org.jobs[:2]]
        for t, (service, action, params) in zip(times, events):
            ctx.audit_rows.append(ctx.audit.row(t=t, principal=admin, service=service, action=action,
                                                params=params, workspace_id=ws))
        return self.truth(ctx, start, ws, "user", admin.name, {"user": admin.name, "target": target.name},
                          "Admin grants and workspace setting changes between 02:00 and 03:00 UTC")


def _download_events(ctx: Context, user: Principal, start: int, span: int, n: int) -> None:
    kinds = (("databrickssql", "downloadQueryResult", lambda: {"fileType": "csv", "queryId": ctx.ids.uuid(),
                                                                "queryResultId": ctx.ids.uuid()}),
             ("notebook", "downloadLargeResults", lambda: {"notebookId": ctx.ids.numeric(7),
                                                           "notebookFullPath": f"/Users/{user.name}/export"}),
             ("workspace", "workspaceExport", lambda: {"workspaceExportFormat": "HTML",
                                                       "notebookFullPath": f"/Shared/reports/{ctx.ids.hex(6)}"}))
    for i, t in enumerate(ctx.spread(start, n, span)):
        service, action, params = kinds[i % len(kinds)]
        ctx.audit_rows.append(ctx.audit.row(t=t, principal=user, service=service, action=action, params=params()))


class MassDownload(Scenario):
    type, domain, duration = "mass_download", "security", 40 * MINUTE

    def inject(self, ctx, start):
        user = ctx.user()
        _download_events(ctx, user, start, self.duration, 45)
        return self.truth(ctx, start, user.workspace_ids[0], "user", user.name, {"user": user.name},
                          "Forty-five result downloads and exports by one user in forty minutes")


class PrivilegeEscalation(Scenario):
    type, domain, duration = "privilege_escalation", "security", HOUR

    def inject(self, ctx, start):
        actor = ctx.admin()
        user = ctx.user()
        ws = user.workspace_ids[0]
        ctx.audit_rows.append(ctx.audit.row(
            t=start, principal=actor, service="accounts", action="addPrincipalToGroup", workspace_id=ws,
            params={"targetGroupName": "admins", "targetGroupId": "1", "targetUserName": user.name,
                    "targetUserId": user.user_id}))
        _download_events(ctx, user, start + 10 * MINUTE, 40 * MINUTE, 25)
        for k, t in enumerate(ctx.spread(start + 12 * MINUTE, 12, 30 * MINUTE)):
            ctx.audit_rows.append(ctx.audit.row(t=t, principal=user, service="secrets", action="getSecret",
                                                params={"scope": "prod", "key": f"db-password-{k}"}))
        return self.truth(ctx, start, ws, "user", user.name, {"user": user.name, "actor": actor.name},
                          "User added to admins, then a download burst and secret reads by the same user")


class SecuritySettingChanged(Scenario):
    type, domain, duration = "security_setting_changed", "security", 10 * MINUTE

    def inject(self, ctx, start):
        admin = ctx.admin()
        ws = ctx.pick_fresh(ctx.org.workspaces, lambda w: "ws:" + w.workspace_id)
        if ws is None:
            return None
        t0, t1, t2 = ctx.spread(start, 3, self.duration)
        list_id = ctx.ids.uuid()
        ctx.audit_rows += [
            ctx.audit.row(t=t0, principal=admin, service="accounts", action="updateIpAccessList",
                          params={"ipAccessListId": list_id, "label": "office", "list_type": "ALLOW"},
                          workspace_id=ws.workspace_id),
            ctx.audit.row(t=t1, principal=admin, service="accounts", action="deleteIpAccessList",
                          params={"ipAccessListId": list_id}, workspace_id=ws.workspace_id),
            ctx.audit.row(t=t2, principal=admin, service="workspace", action="workspaceConfEdit",
                          params={"workspaceConfKeys": "enableIpAccessLists", "workspaceConfValues": "false"},
                          workspace_id=ws.workspace_id),
        ]
        return self.truth(ctx, start, ws.workspace_id, "workspace", ws.workspace_id,
                          {"workspace_id": ws.workspace_id, "actor": admin.name},
                          "IP access list edited then deleted, and IP access lists switched off")


class SecretHarvesting(Scenario):
    type, domain, duration = "secret_harvesting", "security", 12 * MINUTE

    def inject(self, ctx, start):
        user = ctx.user()
        for k, t in enumerate(ctx.spread(start, 18, self.duration)):
            ctx.audit_rows.append(ctx.audit.row(t=t, principal=user, service="secrets", action="getSecret",
                                                params={"scope": f"scope-{k % 4}", "key": f"key-{k}"}))
        return self.truth(ctx, start, user.workspace_ids[0], "user", user.name, {"user": user.name},
                          "Eighteen distinct secrets read by one user in twelve minutes")


class JobFailureStreak(Scenario):
    type, domain, duration = "job_failure_streak", "reliability", 12 * HOUR  # at most; set per job

    def inject(self, ctx, start):
        jobs = [j for j in ctx.org.jobs if j.period_hours <= 2 and j.compute != "all_purpose"
                and j.at(start) is not None and j.at(start)["delete_time"] is None]
        job = ctx.pick_fresh(jobs, lambda j: j.job_id)
        if job is None:
            return None
        self.duration = 6 * job.period_hours * HOUR
        ctx.effects.add("job_fail", job.job_id, start, start + self.duration)
        return self.truth(ctx, start, job.workspace_id, "job", job.job_id, {"job_id": job.job_id},
                          "Every scheduled run of the job fails for six periods in a row")


class QueryLatencyRegression(Scenario):
    type, domain, duration, hour = "query_latency_regression", "query", 8 * HOUR, 8

    def inject(self, ctx, start):
        wh = ctx.pick_fresh(ctx.org.warehouses, lambda w: w.warehouse_id)
        if wh is None:
            return None
        ctx.effects.add("warehouse_latency", wh.warehouse_id, start, start + self.duration, 6.0)
        return self.truth(ctx, start, wh.workspace_id, "warehouse", wh.warehouse_id,
                          {"warehouse_id": wh.warehouse_id}, "Query execution six times slower on one warehouse")


class WarehouseQueueSaturation(Scenario):
    type, domain, duration, hour = "warehouse_queue_saturation", "query", 3 * HOUR, 10

    def inject(self, ctx, start):
        wh = ctx.pick_fresh(ctx.org.warehouses, lambda w: w.warehouse_id)
        if wh is None:
            return None
        ctx.effects.add("warehouse_queueing", wh.warehouse_id, start, start + self.duration)
        return self.truth(ctx, start, wh.workspace_id, "warehouse", wh.warehouse_id,
                          {"warehouse_id": wh.warehouse_id},
                          "Warehouse at its maximum clusters with queries queueing minutes for capacity")


SCENARIOS: dict[str, type[Scenario]] = {
    s.type: s for s in (
        RunawayCluster, ServerlessSqlSpendSurge, UntaggedSpendSurge, BruteForceLogin, TokenCreationBurst,
        OffHoursAdmin, MassDownload, PrivilegeEscalation, SecuritySettingChanged, SecretHarvesting,
        JobFailureStreak, QueryLatencyRegression, WarehouseQueueSaturation,
    )
}


def standing_conditions(org: Organisation, ids: Ids) -> list[GroundTruth]:
    """Conditions the organisation has by design, which rules rightly report but no scenario injected.

    Jobs scheduled on all-purpose clusters (a cost finding), and the all-purpose clusters that hourly
    jobs keep up around the clock. Evaluations count an incident on one of these as a true finding,
    not a false alarm, and leave them out of scenario recall.
    """
    out = []
    for job in org.jobs:
        if job.compute != "all_purpose":
            continue
        first = job.versions[0]
        start = max(org.start, first["create_time"])
        end = next((v["delete_time"] for v in job.versions if v["delete_time"] is not None), org.end)
        out.append(GroundTruth(ids.uuid(), "job_on_all_purpose_compute", "cost", start, end, job.workspace_id,
                               "job", job.job_id, {"job_id": job.job_id, "cluster_id": job.all_purpose_cluster},
                               "Scheduled job runs on an all-purpose cluster"))
        if job.period_hours <= 2:
            out.append(GroundTruth(ids.uuid(), "all_purpose_cluster_always_on", "cost", start, end, job.workspace_id,
                                   "cluster", job.all_purpose_cluster, {"cluster_id": job.all_purpose_cluster},
                                   "All-purpose cluster kept up around the clock by an hourly job"))
    return out


def resolve(types: list[str] | None) -> list[str]:
    if types is None:
        return list(SCENARIOS)
    unknown = [t for t in types if t not in SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario type(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    return list(types)


def inject_all(org: Organisation, effects: Effects, audit: AuditFactory, ids: Ids, rng: np.random.Generator,
               types: list[str], per_type: int, warmup_days: int) -> tuple[list[GroundTruth], list[dict]]:
    """Place ``per_type`` instances of each scenario type after the warm-up, and inject them."""
    ctx = Context(org, effects, audit, ids, rng)
    truths = []
    first_day = min(warmup_days, max(0, org.days - 1))
    for kind in types:
        for _ in range(per_type):
            scenario = SCENARIOS[kind]()
            latest = org.end - scenario.duration - 30 * MINUTE
            hour = scenario.hour if scenario.hour is not None else int(rng.integers(8, 17))
            minute = int(rng.integers(0, 30)) * MINUTE
            days = [d for d in range(first_day, org.days) if org.start + d * DAY + hour * HOUR + minute <= latest]
            if days:
                start = org.start + int(rng.choice(days)) * DAY + hour * HOUR + minute
            elif latest >= org.start:  # a short horizon: give up the preferred hour, keep the window inside
                start = latest
            else:
                continue
            truth = scenario.inject(ctx, start)
            if truth is not None:
                truths.append(truth)
    return truths, ctx.audit_rows
