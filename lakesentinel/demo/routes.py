"""The demo's routing: every incident to the console and to the local signed webhook, on short timers."""

from __future__ import annotations

from pathlib import Path

URL_ENV = "LAKESENTINEL_DEMO_WEBHOOK_URL"
SECRET_ENV = "LAKESENTINEL_DEMO_WEBHOOK_SECRET"

ROUTES = f"""# Written by `lakesentinel demo`: console and a local webhook, timers short enough to watch.
route:
  receiver: demo
  group_by: [rule_id, workspace_id, entity_id]
  group_wait: 2s
  group_interval: 10s
  repeat_interval: 30m
  resolve_timeout: 60s

inhibit_rules:
  - name: critical-mutes-lesser-on-same-entity
    source_matchers: ['severity=critical']
    target_matchers: ['severity=~info|low|medium|high']
    equal: [workspace_id, entity_type, entity_id]

receivers:
  - name: demo
@CONSOLE@    webhook:
      url: {{env: {URL_ENV}}}
      secret: {{env: {SECRET_ENV}}}
"""


def write_routes(directory: Path, console: bool = True) -> Path:
    """The routes file, with the console receiver too unless ``console`` is False (benchmarks)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "demo-routes.yaml"
    path.write_text(ROUTES.replace("@CONSOLE@", "    console: {}\n" if console else ""))
    return path
