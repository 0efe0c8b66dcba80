"""Audit events (``access.audit``): the background of a working organisation, and a row builder."""

from __future__ import annotations

import numpy as np

from lakesentinel.simulator.clock import DAY, HOUR, MINUTE, day_number
from lakesentinel.simulator.ids import Ids
from lakesentinel.simulator.organisation import Organisation, Principal
from lakesentinel.simulator.seasonality import HOURLY, WEEKLY

SYSTEM_USER = "System-User"
LOGIN_ACTIONS = ("samlLogin", "oidcBrowserLogin", "login", "tokenLogin")

# (weight, service, action, request_params factory, success status). Weights are per user event.
_USER_MIX = (
    (20, "unityCatalog", "getTable", lambda r, o: {"full_name_arg": _table(r), "workspace_id": None}),
    (8, "unityCatalog", "listTables", lambda r, o: {"catalog_name": "main", "schema_name": r.choice(_SCHEMAS)}),
    (9, "unityCatalog", "generateTemporaryTableCredential",
     lambda r, o: {"table_full_name": _table(r), "table_id": f"tbl-{int(r.integers(0, 400))}",
                   "operation": "READ" if r.random() < 0.85 else "READ_WRITE"}),
    (6, "clusters", "get", lambda r, o: {"cluster_id": o}),
    (4, "jobs", "getRun", lambda r, o: {"run_id": str(int(r.integers(10**9, 10**10)))}),
    (6, "notebook", "attachNotebook", lambda r, o: {"notebookId": str(int(r.integers(10**6, 10**7)))}),
    (5, "databrickssql", "downloadQueryResult",
     lambda r, o: {"fileType": "arrows", "queryId": _uuidish(r), "queryResultId": _uuidish(r)}),
    (5, "sqlPermissions", "getSecurable", lambda r, o: {"securable": _table(r)}),
    (3, "workspace", "getWorkspaceObject", lambda r, o: {"path": f"/Users/{int(r.integers(0, 99))}"}),
    (2, "filesystem", "filesGet", lambda r, o: {"path": f"/Volumes/main/raw/landing/f{int(r.integers(0, 9999))}.csv"}),
    (1, "workspace", "workspaceExport", lambda r, o: {"workspaceExportFormat": "SOURCE",
                                                      "notebookFullPath": f"/Users/n{int(r.integers(0, 99))}"}),
    (1, "secrets", "getSecret", lambda r, o: {"scope": "team", "key": f"api-key-{int(r.integers(0, 3))}"}),
    (2, "notebook", "downloadPreviewResults", lambda r, o: {"notebookId": str(int(r.integers(10**6, 10**7)))}),
)
_SP_MIX = (
    (30, "unityCatalog", "generateTemporaryTableCredential",
     lambda r, o: {"table_full_name": _table(r), "table_id": f"tbl-{int(r.integers(0, 400))}",
                   "operation": "READ_WRITE" if r.random() < 0.4 else "READ"}),
    (10, "secrets", "getSecret", lambda r, o: {"scope": "jobs", "key": f"conn-{int(r.integers(0, 2))}"}),
    (20, "unityCatalog", "getTable", lambda r, o: {"full_name_arg": _table(r)}),
    (8, "jobs", "runNow", lambda r, o: {"job_id": str(int(r.integers(10**14, 10**15)))}),
)
_SCHEMAS = ("sales", "finance", "raw", "marts", "ml", "ops")


def _table(r: np.random.Generator) -> str:
    return f"main.{_SCHEMAS[int(r.integers(0, len(_SCHEMAS)))]}.t{int(r.integers(0, 60))}"


def _uuidish(r: np.random.Generator) -> str:
    return r.bytes(16).hex()


class AuditFactory:
    def __init__(self, org: Organisation, ids: Ids, rng: np.random.Generator):
        self.org, self.ids, self.rng = org, ids, rng

    def row(self, *, t: int, principal: Principal | None, service: str, action: str, params: dict,
            status: int = 200, workspace_id: str | None = None, ip: str | None = None,
            error: str | None = None, result: str | None = None, account_level: bool = False,
            email: str | None = None, session_id: str | None = None) -> dict:
        who = email if email is not None else (principal.name if principal else SYSTEM_USER)
        ws = "0" if account_level else (workspace_id or (principal.workspace_ids[0] if principal else "0"))
        # Audit rows become visible minutes after the event.
        available = t + int(self.rng.integers(2, 9)) * MINUTE
        return {
            "account_id": self.org.account_id, "workspace_id": ws, "version": "2.0", "event_time": t,
            "event_date": day_number(t), "source_ip_address": ip or (principal.ip if principal else None),
            "user_agent": principal.user_agent if principal else "Databricks-Service/driver",
            "session_id": session_id or (f"s-{self.ids.hex(12)}" if principal else None),
            "user_identity": {"email": who, "subject_name": None},
            "service_name": service, "action_name": action, "request_id": self.ids.uuid(),
            "request_params": {k: v for k, v in params.items() if v is not None},
            "response": {"status_code": status,
                         "error_message": error if error is not None else (None if status < 400 else _error(status)),
                         "result": result},
            "audit_level": "ACCOUNT_LEVEL" if account_level else "WORKSPACE_LEVEL",
            "event_id": self.ids.uuid(),
            "identity_metadata": {"run_by": who, "run_as": who, "acting_resource": None,
                                  "run_by_display_name": principal.display_name if principal else None,
                                  "run_as_display_name": principal.display_name if principal else None},
            "_available_at": available,
        }

    def background(self, day_start: int) -> list[dict]:
        """One day of ordinary activity for every principal, shaped by the daily and weekly cycle."""
        org, rng = self.org, self.rng
        rows: list[dict] = []
        hourly = np.array(HOURLY) / sum(HOURLY)
        weekday = int((day_start // DAY + 3) % 7)
        growth = (1 + org.profile.growth_per_day) ** max(0, (day_start - org.start) / DAY)
        level = WEEKLY[weekday] * growth
        mixes = {"user": _weights(_USER_MIX), "service_principal": _weights(_SP_MIX)}
        for p in org.users + org.service_principals:
            base = org.profile.audit_events_per_user_day * (1.6 if p.kind == "service_principal" else 1.0)
            n = int(rng.poisson(base * level))
            if n == 0:
                continue
            mix, table = mixes[p.kind], (_USER_MIX if p.kind == "user" else _SP_MIX)
            hours = rng.choice(24, size=n, p=hourly if p.kind == "user" else None)
            offsets = rng.integers(0, HOUR, size=n)
            kinds = rng.choice(len(table), size=n, p=mix)
            session = f"s-{self.ids.hex(12)}"
            first = int(day_start + hours.min() * HOUR)
            # A login opens the working day (tokens for service principals).
            login = "tokenLogin" if p.kind == "service_principal" else LOGIN_ACTIONS[int(rng.integers(0, 2))]
            rows.append(self.row(t=first, principal=p, service="accounts", action=login,
                                 params={"user": p.name}, session_id=session,
                                 workspace_id=p.workspace_ids[0]))
            for h, off, k in zip(hours, offsets, kinds):
                _, service, action, make, = table[int(k)]
                ws = p.workspace_ids[int(rng.integers(0, len(p.workspace_ids)))]
                cluster = org.clusters[int(rng.integers(0, len(org.clusters)))].cluster_id if org.clusters else None
                params = make(rng, cluster)
                status = 200
                if service == "unityCatalog" and rng.random() < 0.002:
                    status = 403
                rows.append(self.row(t=int(day_start + h * HOUR + off), principal=p, service=service,
                                     action=action, params=params, status=status, workspace_id=ws,
                                     session_id=session))
            # The odd mistyped password: rarely twice in an hour.
            if p.kind == "user" and rng.random() < 0.01:
                t = int(day_start + int(rng.integers(7, 19)) * HOUR + int(rng.integers(0, HOUR)))
                rows.append(self.row(t=t, principal=p, service="accounts", action="login",
                                     params={"user": p.name}, status=401))
        # Background services run as System-User.
        for _ in range(int(rng.poisson(40 * level * max(1, org.profile.workspaces / 3)))):
            t = int(day_start + int(rng.integers(0, DAY)))
            rows.append(self.row(t=t, principal=None, service="unityCatalog", action="getTable",
                                 params={"full_name_arg": _table(rng)},
                                 workspace_id=org.pick(org.workspaces, rng).workspace_id, ip="127.0.0.1"))
        return rows


def _weights(mix) -> np.ndarray:
    w = np.array([m[0] for m in mix], dtype=float)
    return w / w.sum()


def _error(status: int) -> str:
    return {401: "Invalid credentials", 403: "PERMISSION_DENIED: User does not have permission",
            404: "RESOURCE_DOES_NOT_EXIST"}.get(status, "Request failed")
