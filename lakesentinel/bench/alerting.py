"""Alerting latency: from an alert row committed to ``plt_ops.alerts`` to its notification at a receiver.

The running pieces are the real ones (``write_alerts``, ``start_lifecycle``, the delivery worker) on a
scratch lakehouse; the receiver is a webhook on 127.0.0.1 that notes when each notification arrives.
Each alert is a new signal on a route with ``group_wait: 0s``, so grouping adds nothing and what is
measured is the machinery: the sink's MERGE, the lifecycle noticing and stepping, the outbox commit,
the worker noticing and delivering. Reported per alert, as p50/p95/max:

- ``sink_s``: the ``write_alerts`` call (MERGE into plt_ops.alerts);
- ``outbox_s``: alert commit -> notification committed to the outbox (the lifecycle);
- ``delivery_s``: outbox commit -> the receiver has the request (the worker);
- ``end_to_end_s``: ``source_committed_at`` (just before the sink is called) -> the receiver.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROUTES = """
route:
  receiver: hook
  group_by: ['...']
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 4h
  resolve_timeout: 1h
receivers:
  - name: hook
    webhook: {{url: '{url}'}}
delivery: {{timeout: 5s, poll_interval: 50ms}}
"""


class Receiver:
    """A webhook that remembers when each fingerprint first arrived."""

    def __init__(self):
        self.arrived: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                at = time.time()
                for inc in json.loads(body).get("incidents", []):
                    receiver.arrived.setdefault(inc["fingerprint"], at)
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return "http://%s:%d/hook" % self.httpd.server_address[:2]


def _alert(i: int, now: datetime) -> dict:
    from lakesentinel.alerts.record import alert_id, fingerprint

    fp = fingerprint("bench.latency", {"n": str(i), "run": now.isoformat()})
    start = now.replace(microsecond=0) - timedelta(minutes=1)
    return dict(alert_id=alert_id(fp, start, now), fingerprint=fp, kind="rule", rule_id="bench.latency",
                rule_version="1", domain="platform", severity="high", title=f"bench alert {i}", summary="",
                workspace_id="1", entity_type="bench", entity_id=str(i), window_start=start, window_end=now,
                observed=1.0, expected=0.0, score=1.0, evidence={}, labels={}, runbook_url=None, cost_impact=None,
                detected_at=now, source_committed_at=now, date_key=int(now.strftime("%Y%m%d")))


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"n": len(values), "p50": round(statistics.median(ordered), 3), "p95": round(p95, 3),
            "max": round(ordered[-1], 3)}


def run(cfg, alerts: int = 40, interval: float = 1.0, on_alert=None) -> dict:
    from lakesentinel.alerts.lifecycle import start_lifecycle
    from lakesentinel.alerts.record import ALERT_SCHEMA
    from lakesentinel.alerts.routes import parse_routes
    from lakesentinel.alerts.sink import write_alerts
    from lakesentinel.context import Context
    from lakesentinel.notify.outbox import OUTBOX
    from lakesentinel.opstables import aware_rows

    receiver = Receiver()
    routes = parse_routes(ROUTES.format(url=receiver.url), "bench-routes.yaml")
    ctx = Context(cfg, routes=routes)
    spark = ctx.spark
    write_alerts(spark, cfg, spark.createDataFrame([], ALERT_SCHEMA))  # create the table before timing
    handle = start_lifecycle(ctx.lifecycle(), "1 second", poll=0.05)
    stop = threading.Event()
    worker = ctx.worker(stop)
    worker_thread = threading.Thread(target=worker.run, daemon=True)
    worker_thread.start()

    sent: dict[str, dict] = {}
    try:
        for i in range(alerts):
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            row = _alert(i, now)
            t_source = time.time()
            write_alerts(spark, cfg, spark.createDataFrame(aware_rows([row], ALERT_SCHEMA), ALERT_SCHEMA))
            t_commit = time.time()
            sent[row["fingerprint"]] = {"source": t_source, "commit": t_commit}
            if on_alert:
                on_alert(i)
            time.sleep(max(0.0, interval - (time.time() - t_source)))
        deadline = time.time() + 60
        while len(receiver.arrived) < len(sent) and time.time() < deadline:
            time.sleep(0.05)
    finally:
        handle.stop()
        stop.set()
        worker_thread.join(30)
        receiver.httpd.shutdown()

    commits = _outbox_commit_times(ctx.ops_tables, OUTBOX)
    sink, outbox, delivery, end_to_end = [], [], [], []
    for fp, t in sent.items():
        sink.append(t["commit"] - t["source"])
        if fp in receiver.arrived:
            end_to_end.append(receiver.arrived[fp] - t["source"])
            if fp in commits:
                outbox.append(commits[fp] - t["commit"])
                delivery.append(receiver.arrived[fp] - commits[fp])
    return {"bench": "alerting", "alerts": alerts, "interval_s": interval, "delivered": len(receiver.arrived),
            "sink_s": _stats(sink), "outbox_s": _stats(outbox), "delivery_s": _stats(delivery),
            "end_to_end_s": _stats(end_to_end), "lifecycle_steps": handle.steps,
            "worker_delivered": worker.stats.delivered, "lifecycle_error": handle.last_error}


def _outbox_commit_times(tables, table: str) -> dict[str, float]:
    """When each fingerprint's notification was committed to the outbox (the change feed's commit time)."""
    name = tables.name("ops", table)
    at: dict[str, float] = {}
    for row in tables.changes(name, -1, tables.version(name) or 0):
        stamp = row["_commit_timestamp"].replace(tzinfo=timezone.utc).timestamp()
        for inc in json.loads(row["payload"]).get("incidents", []):
            at.setdefault(inc["fingerprint"], stamp)
    return at
