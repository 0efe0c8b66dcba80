"""Databricks SQL alert: hand a detection over to native Databricks alerting.

On a group's first notification it creates a saved query over ``plt_ops.alerts`` that counts the
group's recent alerts, and an alert on that query (``firing > 0``), so Databricks' own schedule,
subscriptions and destinations take it from there. Both are named after the group, which makes the
lookup before creating (and after a crash) a list by name. Re-notifications change nothing; resolve
moves both to the trash when ``send_resolved`` is on.
"""

from __future__ import annotations

from typing import Mapping

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.clock import Clock
from databricks.sdk.config import Config
from databricks.sdk.errors import DatabricksError
from databricks.sdk.service.sql import (
    AlertCondition,
    AlertConditionOperand,
    AlertConditionThreshold,
    AlertOperandColumn,
    AlertOperandValue,
    AlertOperator,
    AlertState,
    CreateAlertRequestAlert,
    CreateQueryRequestQuery,
)

from lakesentinel.notify.config import SqlAlertConfig
from lakesentinel.notify.notification import Notification
from lakesentinel.notify.receiver import Outcome, classify_http, transport_error

# Group labels that are columns of plt_ops.alerts; any other label is looked up in its labels map.
_ALERT_COLUMNS = {"rule_id", "kind", "domain", "severity", "workspace_id", "entity_type", "entity_id", "fingerprint"}


class _OneShotClock(Clock):
    """The SDK retries inside each call until a deadline; this clock makes the first failure final
    (without sleeping), since the worker owns retries and backoff."""

    def __init__(self):
        self._now = 0.0

    def time(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self._now += max(seconds, 1.0) + 3600.0


def display_name(n: Notification) -> str:
    head = (n.firing or n.incidents)[0]
    return f"[lakesentinel] {head.rule_id} {n.group_hash}"


def query_text(n: Notification, alerts_table: str, lookback_seconds: int) -> str:
    """SQL counting the group's alerts in the look-back window, the group re-expressed as predicates."""
    def lit(v: str) -> str:
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"

    preds = []
    for name, value in sorted(n.group_labels.items()):
        column = name if name in _ALERT_COLUMNS else f"labels[{lit(name)}]"
        preds.append(f"{column} = {lit(value)}" if value else f"coalesce({column}, '') = ''")
    if not preds:
        preds.append(f"rule_id IN ({', '.join(sorted({lit(i.rule_id) for i in n.incidents}))})")
    preds.append(f"detected_at >= current_timestamp() - INTERVAL {lookback_seconds} SECONDS")
    return (f"-- lakesentinel group {n.group_hash} (route {n.route_id}); created by the sql_alert receiver\n"
            f"SELECT count(*) AS firing, count(DISTINCT fingerprint) AS signals, max(detected_at) AS last_detected_at\n"
            f"FROM {alerts_table}\nWHERE " + "\n  AND ".join(preds))


class SqlAlertReceiver:
    def __init__(self, integration: str, config: SqlAlertConfig, *, alerts_table: str, timeout: float = 10.0):
        self.integration = integration
        self.config = config
        self.alerts_table = alerts_table
        self.client = WorkspaceClient(config=Config(
            host=config.host, token=config.token.resolve(), auth_type="pat", http_timeout_seconds=int(max(1, timeout)),
            retry_timeout_seconds=1, clock=_OneShotClock()))

    # ---- the protocol ------------------------------------------------------------------------
    def notify(self, n: Notification, refs: Mapping[str, str]) -> Outcome:
        try:
            if n.reason == "resolved":
                if self.config.send_resolved:
                    self._trash(n, refs)
                return Outcome.delivered(refs)
            if refs.get("alert_id"):
                return Outcome.delivered(refs)  # the native alert re-evaluates on its own schedule
            return Outcome.delivered(self._create(n))
        except Exception as exc:  # noqa: BLE001 - classified below
            return _sdk_error(exc)

    def find_delivered(self, n: Notification, refs: Mapping[str, str]) -> Outcome | None:
        try:
            name = display_name(n)
            alert = self._alert_named(name)
            if n.reason == "resolved":
                return Outcome.delivered(refs) if (alert is None or not self.config.send_resolved) else None
            if alert is None:
                return None
            return Outcome.delivered({"alert_id": alert.id, "query_id": alert.query_id})
        except Exception as exc:  # noqa: BLE001
            outcome = _sdk_error(exc)
            return outcome if outcome.status == "retryable" else None

    # ---- helpers -----------------------------------------------------------------------------
    def _create(self, n: Notification) -> dict[str, str]:
        name = display_name(n)
        alert = self._alert_named(name)
        if alert is not None:
            return {"alert_id": alert.id, "query_id": alert.query_id}
        query = next((q for q in self.client.queries.list() if q.display_name == name), None)
        if query is None:  # a query left by an attempt that failed before creating its alert is reused
            query = self.client.queries.create(query=CreateQueryRequestQuery(
                display_name=name, warehouse_id=self.config.warehouse_id, parent_path=self.config.parent_path,
                query_text=query_text(n, self.alerts_table, int(self.config.lookback.total_seconds())),
                description=f"lakesentinel: {n.title}", tags=["lakesentinel", n.route_id]))
        created = self.client.alerts.create(alert=CreateAlertRequestAlert(
            display_name=name, query_id=query.id, parent_path=self.config.parent_path, notify_on_ok=True,
            custom_subject=f"lakesentinel: {n.title}"[:200],
            condition=AlertCondition(op=AlertOperator.GREATER_THAN,
                                     operand=AlertConditionOperand(column=AlertOperandColumn(name="firing")),
                                     threshold=AlertConditionThreshold(value=AlertOperandValue(double_value=0)),
                                     empty_result_state=AlertState.OK)))
        return {"alert_id": created.id, "query_id": query.id}

    def _alert_named(self, name: str):
        return next((a for a in self.client.alerts.list() if a.display_name == name), None)

    def _trash(self, n: Notification, refs: Mapping[str, str]) -> None:
        alert = self._alert_named(display_name(n))
        alert_id = refs.get("alert_id") or (alert.id if alert else None)
        query_id = refs.get("query_id") or (alert.query_id if alert else None)
        if alert_id and alert is not None:
            self.client.alerts.delete(alert_id)
        if query_id and any(q.id == query_id for q in self.client.queries.list()):
            self.client.queries.delete(query_id)


def _sdk_error(exc: BaseException) -> Outcome:
    # With the one-shot clock a retryable failure surfaces as TimeoutError caused by the real error.
    cause = exc.__cause__ if isinstance(exc, TimeoutError) and exc.__cause__ is not None else exc
    if isinstance(cause, DatabricksError):
        status = _status_of(cause)
        detail = f"databricks {cause.error_code or type(cause).__name__}: {cause}"
        if status:
            return classify_http(status, None, detail)
        return Outcome.retryable(detail)  # unknown to us: bounded by the worker's attempts, then dead-lettered
    if isinstance(cause, (requests.RequestException, OSError)):
        return transport_error(cause)
    return Outcome.permanent(f"databricks: {type(cause).__name__}: {cause}")


def _status_of(err: DatabricksError) -> int | None:
    from databricks.sdk import errors

    table = [(errors.TooManyRequests, 429), (errors.InternalError, 500), (errors.TemporarilyUnavailable, 503),
             (errors.DeadlineExceeded, 504), (errors.NotFound, 404), (errors.Unauthenticated, 401),
             (errors.PermissionDenied, 403), (errors.BadRequest, 400)]
    return next((code for cls, code in table if isinstance(err, cls)), None)
