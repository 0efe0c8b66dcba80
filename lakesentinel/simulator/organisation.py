"""The simulated account: workspaces, principals, SKUs and prices, compute, jobs and pipelines.

Entities that change over time keep their history as the exact rows their system table holds
(one row per version, ``change_time`` ordered); ``version_at`` answers "what did it look like then".
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from lakesentinel.simulator.clock import DAY, HOUR, MINUTE, day_number
from lakesentinel.simulator.ids import Ids
from lakesentinel.simulator.profiles import Profile

CLOUD = "AWS"
REGION_SUFFIX = "US_EAST_N_VIRGINIA"
PRICE_EPOCH_US = 1_672_531_200_000_000  # 2023-01-01: list prices in force before any simulated period

TEAMS = ("data-eng", "analytics", "ml-platform", "finance-bi", "marketing", "security", "growth", "ops")
COST_CENTERS = {"data-eng": "CC-100", "analytics": "CC-200", "ml-platform": "CC-300", "finance-bi": "CC-400",
                "marketing": "CC-500", "security": "CC-600", "growth": "CC-700", "ops": "CC-800"}
FIRST = ("alex", "sam", "jordan", "taylor", "morgan", "casey", "riley", "jamie", "avery", "quinn", "drew",
         "rowan", "sasha", "robin", "kai", "noa", "li", "omar", "priya", "chen", "maria", "ivan", "fatima", "lucas")
LAST = ("smith", "garcia", "chen", "kumar", "nguyen", "müller", "rossi", "silva", "kim", "okafor", "novak",
        "haddad", "tanaka", "johansson", "dubois", "kowalski", "patel", "cohen", "santos", "ali")
VERBS = ("ingest", "refresh", "score", "export", "aggregate", "sync", "train", "clean", "load", "publish")
NOUNS = ("orders", "customers", "events", "payments", "inventory", "sessions", "features", "ledger",
         "clicks", "shipments", "forecasts", "leads")

# AWS node types: (name, cores, memory MB, GPUs, DBU per hour)
NODE_TYPES = (
    ("m5d.large", 2.0, 8192, 0, 0.34), ("m5d.xlarge", 4.0, 16384, 0, 0.69),
    ("m5d.2xlarge", 8.0, 32768, 0, 1.37), ("m5d.4xlarge", 16.0, 65536, 0, 2.74),
    ("r5d.xlarge", 4.0, 32768, 0, 0.9), ("r5d.2xlarge", 8.0, 65536, 0, 1.8),
    ("i3.xlarge", 4.0, 31232, 0, 1.0), ("i3.2xlarge", 8.0, 62464, 0, 2.0),
    ("c5d.2xlarge", 8.0, 16384, 0, 1.2), ("g4dn.xlarge", 4.0, 16384, 1, 1.1),
    ("p3.2xlarge", 8.0, 62464, 1, 4.15),
)

# SKU name -> (billing_origin_product, unit, list price per unit, promotional price or None)
SKUS: dict[str, tuple[str, str, str, str | None]] = {
    "PREMIUM_ALL_PURPOSE_COMPUTE": ("ALL_PURPOSE", "DBU", "0.55", None),
    "PREMIUM_ALL_PURPOSE_COMPUTE_(PHOTON)": ("ALL_PURPOSE", "DBU", "0.55", None),
    "PREMIUM_JOBS_COMPUTE": ("JOBS", "DBU", "0.15", None),
    "PREMIUM_JOBS_COMPUTE_(PHOTON)": ("JOBS", "DBU", "0.15", None),
    f"PREMIUM_JOBS_SERVERLESS_COMPUTE_{REGION_SUFFIX}": ("JOBS", "DBU", "0.39", "0.35"),
    f"PREMIUM_SQL_PRO_COMPUTE_{REGION_SUFFIX}": ("SQL", "DBU", "0.55", None),
    f"PREMIUM_SERVERLESS_SQL_COMPUTE_{REGION_SUFFIX}": ("SQL", "DBU", "0.70", None),
    "PREMIUM_SQL_COMPUTE": ("SQL", "DBU", "0.22", None),
    "PREMIUM_DLT_CORE_COMPUTE": ("DLT", "DBU", "0.20", None),
    "PREMIUM_DLT_PRO_COMPUTE": ("DLT", "DBU", "0.25", None),
    "PREMIUM_DLT_ADVANCED_COMPUTE": ("DLT", "DBU", "0.36", None),
}
# Mid-period list price changes: SKU -> new list price.
PRICE_CHANGES = {
    f"PREMIUM_SERVERLESS_SQL_COMPUTE_{REGION_SUFFIX}": "0.66",
    "PREMIUM_JOBS_COMPUTE": "0.16",
}

WAREHOUSE_SIZES = {"2X_SMALL": 4, "X_SMALL": 6, "SMALL": 12, "MEDIUM": 24, "LARGE": 40}
DBR_VERSIONS = ("15.4.x-scala2.12", "16.4.x-scala2.12", "17.3.x-scala2.13", "17.3.x-photon-scala2.13")


def version_at(versions: list[dict], t_us: int, time_key: str = "change_time") -> dict | None:
    """The latest version with ``change_time <= t`` (None before the first)."""
    times = [v[time_key] for v in versions]
    i = bisect.bisect_right(times, t_us)
    return versions[i - 1] if i else None


@dataclass
class Workspace:
    workspace_id: str
    name: str
    url: str
    create_time: int


@dataclass
class Principal:
    user_id: str
    name: str  # e-mail for users, application id for service principals
    kind: str  # "user" | "service_principal"
    display_name: str
    workspace_ids: list[str]
    is_admin: bool
    ip: str
    user_agent: str
    team: str


@dataclass
class Cluster:
    cluster_id: str
    workspace_id: str
    owner: Principal
    versions: list[dict] = field(default_factory=list)
    busy: float = 0.5  # how often it is up during working hours

    def at(self, t_us: int) -> dict | None:
        return version_at(self.versions, t_us)


@dataclass
class Task:
    task_key: str
    depends_on: list[str]
    share: float  # share of the run's execution time


@dataclass
class Job:
    job_id: str
    workspace_id: str
    name: str
    team: str
    compute: str  # job_cluster | serverless | all_purpose
    period_hours: int
    offset_min: int
    mean_minutes: float
    tasks: list[Task]
    run_as: Principal
    creator: Principal
    node_type: str
    workers: int
    photon: bool
    all_purpose_cluster: str | None
    failure_rate: float
    versions: list[dict] = field(default_factory=list)
    task_versions: list[dict] = field(default_factory=list)
    dbu_per_hour: float = 8.0  # serverless consumption rate

    def at(self, t_us: int) -> dict | None:
        return version_at(self.versions, t_us)


@dataclass
class Warehouse:
    warehouse_id: str
    workspace_id: str
    owner: Principal
    users: list[Principal]
    load: float  # peak queries per hour
    median_ms: float
    versions: list[dict] = field(default_factory=list)

    def at(self, t_us: int) -> dict | None:
        return version_at(self.versions, t_us)


@dataclass
class Pipeline:
    pipeline_id: str
    workspace_id: str
    run_as: Principal
    continuous: bool
    serverless: bool
    edition: str
    cluster_id: str | None
    dbu_per_hour: float
    run_hour: int
    versions: list[dict] = field(default_factory=list)

    def at(self, t_us: int) -> dict | None:
        return version_at(self.versions, t_us)


class Organisation:
    """Everything that exists in the account over ``[start, end)``, derived from ``seed`` alone."""

    def __init__(self, profile: Profile, seed: int, start_us: int, days: int):
        self.profile = profile
        self.seed = seed
        self.start = start_us
        self.end = start_us + days * DAY
        self.days = days
        self.rng = np.random.default_rng([seed, 0])
        self.ids = Ids(self.rng)
        self.account_id = self.ids.uuid()
        self.node_types = {n[0]: n for n in NODE_TYPES}
        self.workspaces = self._workspaces()
        self.users, self.service_principals = self._principals()
        self.admins = [u for u in self.users if u.is_admin]
        self.price_rows = self._prices()
        self.clusters = self._all_purpose_clusters()
        self.warehouses = self._warehouses()
        self.jobs = self._jobs()
        self.pipelines = self._pipelines()
        self.by_workspace_users = {
            w.workspace_id: [u for u in self.users if w.workspace_id in u.workspace_ids] for w in self.workspaces
        }

    # ---- helpers ---------------------------------------------------------------------------------
    def pick(self, seq, rng: np.random.Generator | None = None):
        rng = rng or self.rng
        return seq[int(rng.integers(0, len(seq)))]

    def _before_start(self, max_days: int = 120) -> int:
        return self.start - int(self.rng.integers(2 * DAY, max_days * DAY))

    def _in_horizon(self, lo: float = 0.05, hi: float = 0.95) -> int:
        span = self.end - self.start
        return self.start + int(self.rng.uniform(lo, hi) * span)

    # ---- entities --------------------------------------------------------------------------------
    def _workspaces(self) -> list[Workspace]:
        names = ("prod", "dev", "analytics", "ml", "finance", "marketing", "staging", "sandbox", "emea", "apac")
        out = []
        for i in range(self.profile.workspaces):
            wid = self.ids.numeric(16)
            name = f"{names[i % len(names)]}{'' if i < len(names) else '-' + str(i // len(names))}"
            out.append(Workspace(wid, name, f"https://dbc-{self.ids.hex(8)}-{self.ids.hex(4)}.cloud.databricks.com",
                                 self.start - int(self.rng.integers(200, 900)) * DAY))
        return out

    def _principals(self) -> tuple[list[Principal], list[Principal]]:
        ws_ids = [w.workspace_id for w in self.workspaces]
        users, seen = [], set()
        agents = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
                  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36",
                  "databricks-cli/0.240.0 databricks-sdk-go/0.57.0", "databricks-sdk-py/0.40.0")
        for i in range(self.profile.users):
            first, last = self.pick(FIRST), self.pick(LAST)
            email = f"{first}.{last}@example.com"
            n = 2
            while email in seen:
                email = f"{first}.{last}{n}@example.com"
                n += 1
            seen.add(email)
            k = 1 + int(self.rng.integers(0, min(3, len(ws_ids))))
            member = list(self.rng.choice(ws_ids, size=k, replace=False))
            users.append(Principal(
                user_id=self.ids.numeric(15), name=email, kind="user",
                display_name=f"{first.title()} {last.title()}", workspace_ids=member,
                is_admin=i < max(2, self.profile.users // 25),
                ip=f"203.0.113.{int(self.rng.integers(2, 250))}", user_agent=self.pick(agents),
                team=self.pick(TEAMS),
            ))
        sps = []
        for i in range(self.profile.service_principals):
            app = self.ids.uuid()
            team = self.pick(TEAMS)
            sps.append(Principal(
                user_id=self.ids.numeric(15), name=app, kind="service_principal",
                display_name=f"sp-{team}-{i}", workspace_ids=[self.pick(ws_ids)], is_admin=False,
                ip=f"10.20.{int(self.rng.integers(0, 255))}.{int(self.rng.integers(2, 250))}",
                user_agent="databricks-sdk-py/0.40.0 auth/oauth-m2m", team=team,
            ))
        return users, sps

    def _prices(self) -> list[dict]:
        """list_prices rows; a changed price closes the old row and opens a new one at mid-period."""
        change_at = self.start + (self.end - self.start) // 2
        change_at -= change_at % HOUR
        rows = []
        for sku, (_, unit, price, promo) in SKUS.items():
            new = PRICE_CHANGES.get(sku)
            rows.append(self._price_row(sku, unit, price, promo, PRICE_EPOCH_US, change_at if new else None))
            if new:
                rows.append(self._price_row(sku, unit, new, None, change_at, None))
        self.price_change_at = change_at
        return rows

    def _price_row(self, sku, unit, price, promo, start, end) -> dict:
        default = Decimal(price)
        promotional = Decimal(promo) if promo else None
        return {
            "price_start_time": start, "price_end_time": end, "account_id": self.account_id,
            "sku_name": sku, "cloud": CLOUD, "currency_code": "USD", "usage_unit": unit,
            "pricing": {"default": default, "promotional": {"default": promotional},
                        "effective_list": {"default": promotional if promotional is not None else default}},
        }

    def cluster_row(self, *, cluster_id, workspace_id, name, owner, create_time, change_time, driver, worker,
                    workers=None, min_workers=None, max_workers=None, auto_term=None, tags=None, source="UI",
                    dbr=DBR_VERSIONS[2], delete_time=None, policy_id=None, mode="USER_ISOLATION") -> dict:
        return {
            "account_id": self.account_id, "workspace_id": workspace_id, "cluster_id": cluster_id,
            "cluster_name": name, "owned_by": owner, "create_time": create_time, "delete_time": delete_time,
            "driver_node_type": driver, "worker_node_type": worker, "worker_count": workers,
            "min_autoscale_workers": min_workers, "max_autoscale_workers": max_workers,
            "auto_termination_minutes": auto_term, "enable_elastic_disk": True, "tags": dict(tags or {}),
            "cluster_source": source, "init_scripts": [],
            "aws_attributes": {"first_on_demand": 1, "availability": "SPOT_WITH_FALLBACK", "zone_id": "auto",
                               "instance_profile_arn": None, "spot_bid_price_percent": 100,
                               "ebs_volume_type": None, "ebs_volume_count": 0, "ebs_volume_size": None,
                               "ebs_volume_iops": None, "ebs_volume_throughput": None},
            "azure_attributes": None, "gcp_attributes": None, "driver_instance_pool_id": None,
            "worker_instance_pool_id": None, "dbr_version": dbr, "change_time": change_time,
            "change_date": day_number(change_time), "data_security_mode": mode, "policy_id": policy_id,
        }

    def _all_purpose_clusters(self) -> list[Cluster]:
        out = []
        general = [n for n in self.node_types if not n.startswith(("g4", "p3"))]
        for i in range(self.profile.all_purpose_clusters):
            owner = self.pick(self.users)
            ws = self.pick(owner.workspace_ids)
            cid = self.ids.cluster_id()
            node = self.pick(general)
            created = self._before_start()
            lo, hi = 1, int(self.rng.integers(2, 9))
            tags = {"team": owner.team}
            if self.rng.random() < 0.8:
                tags["cost_center"] = COST_CENTERS[owner.team]
            dbr = self.pick(DBR_VERSIONS)
            row = self.cluster_row(cluster_id=cid, workspace_id=ws, name=f"{owner.team}-{owner.name.split('@')[0]}-{i}",
                                   owner=owner.name, create_time=created, change_time=created, driver=node,
                                   worker=node, min_workers=lo, max_workers=hi, auto_term=int(self.pick((30, 60, 120))),
                                   tags=tags, source=self.pick(("UI", "API")), dbr=dbr)
            cluster = Cluster(cid, ws, owner, [row], busy=float(self.rng.uniform(0.25, 0.8)))
            # Configuration changes within the horizon: resize, upgrade, retag.
            for _ in range(int(self.rng.poisson(0.3 * max(1, self.days / 7)))):
                t = self._in_horizon()
                prev = cluster.versions[-1]
                new = dict(prev, change_time=t, change_date=day_number(t))
                what = int(self.rng.integers(0, 3))
                if what == 0:
                    new["max_autoscale_workers"] = int(self.rng.integers(2, 12))
                elif what == 1:
                    new["dbr_version"] = DBR_VERSIONS[min(len(DBR_VERSIONS) - 1, DBR_VERSIONS.index(prev["dbr_version"]) + 1)]
                else:
                    new["tags"] = dict(prev["tags"], project=self.pick(NOUNS))
                cluster.versions.append(new)
                cluster.versions.sort(key=lambda r: r["change_time"])
            out.append(cluster)
        return out

    def warehouse_row(self, wh_id, ws, name, wtype, size, min_c, max_c, auto_stop, tags, change_time,
                      delete_time=None) -> dict:
        return {
            "warehouse_id": wh_id, "workspace_id": ws, "account_id": self.account_id, "warehouse_name": name,
            "warehouse_type": wtype, "warehouse_channel": "CURRENT", "warehouse_size": size,
            "min_clusters": min_c, "max_clusters": max_c, "auto_stop_minutes": auto_stop, "tags": dict(tags),
            "change_time": change_time, "delete_time": delete_time,
        }

    def _warehouses(self) -> list[Warehouse]:
        out = []
        for i in range(self.profile.warehouses):
            ws = self.workspaces[i % len(self.workspaces)]
            members = [u for u in self.users if ws.workspace_id in u.workspace_ids] or self.users
            owner = self.pick(members)
            wtype = self.pick(("SERVERLESS", "SERVERLESS", "PRO", "PRO", "CLASSIC"))
            size = self.pick(tuple(WAREHOUSE_SIZES))
            tags = {"team": owner.team, "cost_center": COST_CENTERS[owner.team]}
            created = self._before_start()
            wh_id = self.ids.hex(16)
            k = min(len(members), max(3, len(members) // 3))
            users = [members[j] for j in self.rng.choice(len(members), size=k, replace=False)]
            row = self.warehouse_row(wh_id, ws.workspace_id, f"{owner.team}-wh-{i}", wtype, size, 1,
                                     int(self.rng.integers(1, 5)), int(self.pick((10, 15, 30))), tags, created)
            wh = Warehouse(wh_id, ws.workspace_id, owner, users,
                           load=self.profile.queries_per_warehouse_hour * float(self.rng.uniform(0.4, 1.6)),
                           median_ms=float(self.rng.uniform(600, 4000)), versions=[row])
            if self.rng.random() < 0.3:
                t = self._in_horizon()
                wh.versions.append(dict(row, change_time=t, max_clusters=row["max_clusters"] + 1))
            out.append(wh)
        return out

    def job_row(self, job: Job, *, change_time, create_time, name=None, tags=None, timeout=None,
                delete_time=None, paused=False) -> dict:
        cron = f"0 {job.offset_min % 60} {'*' if job.period_hours < 24 else job.offset_min // 60 % 24}/{job.period_hours if job.period_hours < 24 else 1} * * ?"
        return {
            "account_id": self.account_id, "workspace_id": job.workspace_id, "job_id": job.job_id,
            "name": name or job.name, "description": f"{job.name} owned by {job.team}",
            "creator_id": job.creator.user_id, "tags": dict(tags if tags is not None else {}),
            "change_time": change_time, "delete_time": delete_time, "run_as": job.run_as.user_id,
            "trigger": {"file_arrival": None, "periodic": None, "continuous": None, "table_update": None,
                        "schedule": {"quartz_cron_expression": cron, "timezone_id": "UTC"}},
            "trigger_type": "CRON", "run_as_user_name": job.run_as.name, "creator_user_name": job.creator.name,
            "paused": paused, "timeout_seconds": timeout,
            # The SLA covers the run, not just execution: job clusters take minutes to start.
            "health_rules": [{"metric": "RUN_DURATION_SECONDS", "operator": "GREATER_THAN",
                              "value": int(job.mean_minutes * 60 * 3) + 900}],
            "deployment": {"kind": "BUNDLE", "metadata_file_path": f"/Workspace/bundles/{job.team}/databricks.yml"}
            if job.job_id[-1] in "0123" else None,
            "create_time": create_time,
        }

    def task_rows(self, job: Job, change_time: int, delete_time=None) -> list[dict]:
        return [{
            "account_id": self.account_id, "workspace_id": job.workspace_id, "job_id": job.job_id,
            "task_key": t.task_key, "depends_on_keys": list(t.depends_on), "change_time": change_time,
            "delete_time": delete_time, "timeout_seconds": None, "health_rules": None,
        } for t in job.tasks]

    def new_job(self, *, workspace_id: str, team: str, compute: str, created: int, tags: dict | None,
                mean_minutes: float | None = None, period_hours: int | None = None,
                dbu_per_hour: float | None = None, name: str | None = None) -> Job:
        members = [p for p in self.users + self.service_principals if workspace_id in p.workspace_ids] or self.users
        creator = self.pick([m for m in members if m.kind == "user"] or self.users)
        run_as = self.pick([m for m in members if m.kind == "service_principal"] or [creator]) \
            if self.rng.random() < 0.6 else creator
        n_tasks = int(self.rng.integers(1, 5))
        keys = [f"{self.pick(VERBS)}_{k}" for k in range(n_tasks)]
        shares = self.rng.dirichlet(np.ones(n_tasks))
        tasks = [Task(keys[k], [keys[k - 1]] if k else [], float(shares[k])) for k in range(n_tasks)]
        aps = [c for c in self.clusters if c.workspace_id == workspace_id]
        if compute == "all_purpose" and not aps:
            compute = "job_cluster"
        general = [n for n in self.node_types if not n.startswith(("g4", "p3"))]
        job = Job(
            job_id=self.ids.numeric(15), workspace_id=workspace_id,
            name=name or f"{team}_{self.pick(VERBS)}_{self.pick(NOUNS)}", team=team, compute=compute,
            period_hours=period_hours or int(self.pick((1, 2, 4, 6, 12, 24, 24))),
            offset_min=int(self.rng.integers(0, 24 * 60)),
            mean_minutes=mean_minutes or float(np.clip(self.rng.lognormal(np.log(18), 0.7), 2, 170)),
            tasks=tasks, run_as=run_as, creator=creator, node_type=self.pick(general),
            workers=int(self.rng.integers(1, 9)), photon=bool(self.rng.random() < 0.3),
            all_purpose_cluster=self.pick(aps).cluster_id if compute == "all_purpose" else None,
            failure_rate=float(self.rng.uniform(0.0, 0.04)),
            dbu_per_hour=dbu_per_hour or float(self.rng.uniform(4, 24)),
        )
        job.versions.append(self.job_row(job, change_time=created, create_time=created, tags=tags,
                                         timeout=int(job.mean_minutes * 60 * 6)))
        job.task_versions.extend(self.task_rows(job, created))
        return job

    def _jobs(self) -> list[Job]:
        out = []
        for _ in range(self.profile.jobs):
            ws = self.pick(self.workspaces).workspace_id
            team = self.pick(TEAMS)
            tags = {"team": team, "env": "prod"}
            if self.rng.random() < 0.85:
                tags["cost_center"] = COST_CENTERS[team]
            compute = self.pick(("job_cluster", "job_cluster", "job_cluster", "serverless", "serverless", "all_purpose"))
            created = self._in_horizon(0.1, 0.9) if self.rng.random() < 0.05 else self._before_start()
            job = self.new_job(workspace_id=ws, team=team, compute=compute, created=created, tags=tags)
            # Edits within the horizon: a rename, new tags, a new timeout.
            for _ in range(int(self.rng.poisson(0.15 * max(1, self.days / 7)))):
                t = self._in_horizon()
                if t <= created:
                    continue
                prev = job.at(t)
                what = int(self.rng.integers(0, 3))
                kw = {"name": prev["name"], "tags": prev["tags"], "timeout": prev["timeout_seconds"]}
                if what == 0:
                    kw["name"] = prev["name"] + "_v2"
                elif what == 1:
                    kw["tags"] = dict(prev["tags"], owner_team=team)
                else:
                    kw["timeout"] = int(job.mean_minutes * 60 * 4)
                job.versions.append(self.job_row(job, change_time=t, create_time=created, **kw))
                job.versions.sort(key=lambda r: r["change_time"])
                if what == 2:
                    job.task_versions.extend(self.task_rows(job, t))
            if self.rng.random() < 0.02:
                t = self._in_horizon(0.5, 0.95)
                if t > created:
                    last = job.at(t)
                    job.versions.append(dict(last, change_time=t, delete_time=t))
                    job.task_versions.extend(self.task_rows(job, t, delete_time=t))
            out.append(job)
        return out

    def pipeline_row(self, p: Pipeline, name, tags, change_time, create_time, delete_time=None) -> dict:
        return {
            "account_id": self.account_id, "workspace_id": p.workspace_id, "pipeline_id": p.pipeline_id,
            "pipeline_type": "ETL_PIPELINE", "name": name, "created_by": p.run_as.name, "run_as": p.run_as.name,
            "tags": dict(tags),
            "settings": {"photon": True, "development": False, "continuous": p.continuous,
                         "serverless": p.serverless, "edition": p.edition, "channel": "CURRENT"},
            "configuration": {"pipelines.trigger.interval": "1 hour" if not p.continuous else "10 seconds"},
            "change_time": change_time, "delete_time": delete_time, "create_time": create_time,
        }

    def _pipelines(self) -> list[Pipeline]:
        out = []
        for i in range(self.profile.pipelines):
            ws = self.pick(self.workspaces).workspace_id
            members = [u for u in self.users if ws in u.workspace_ids] or self.users
            owner = self.pick(members)
            serverless = bool(self.rng.random() < 0.4)
            p = Pipeline(self.ids.uuid(), ws, owner, continuous=bool(self.rng.random() < 0.3),
                         serverless=serverless, edition=self.pick(("CORE", "PRO", "ADVANCED")),
                         cluster_id=None if serverless else self.ids.cluster_id(),
                         dbu_per_hour=float(self.rng.uniform(2, 12)), run_hour=int(self.rng.integers(0, 24)))
            created = self._before_start()
            tags = {"team": owner.team, "cost_center": COST_CENTERS[owner.team]}
            p.versions.append(self.pipeline_row(p, f"{owner.team}_dlt_{self.pick(NOUNS)}_{i}", tags, created, created))
            if p.cluster_id:
                node = "m5d.xlarge"
                self.clusters.append(Cluster(p.cluster_id, ws, owner, [self.cluster_row(
                    cluster_id=p.cluster_id, workspace_id=ws, name=f"dlt-execution-{p.pipeline_id}", owner=owner.name,
                    create_time=created, change_time=created, driver=node, worker=node, min_workers=1,
                    max_workers=4, tags={"team": owner.team}, source="PIPELINE", mode="SINGLE_USER")], busy=0.0))
            out.append(p)
        return out

    # ---- lookups ---------------------------------------------------------------------------------
    def sku_for_cluster(self, version: dict, kind: str) -> str:
        photon = "photon" in (version.get("dbr_version") or "")
        base = "PREMIUM_ALL_PURPOSE_COMPUTE" if kind == "all_purpose" else "PREMIUM_JOBS_COMPUTE"
        return base + ("_(PHOTON)" if photon else "")

    def dbu_rate(self, node_type: str) -> float:
        return self.node_types[node_type][4]

    def cluster(self, cluster_id: str) -> Cluster:
        return next(c for c in self.clusters if c.cluster_id == cluster_id)

    def interval_minutes(self, lo: int, hi: int, rng: np.random.Generator) -> int:
        return int(rng.integers(lo, hi + 1)) * MINUTE
