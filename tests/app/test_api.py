"""The app's API over a simulated lakehouse: what each page reads, and actions through the CLI's code."""

from __future__ import annotations

import pytest
from lakesentinel.context import Context
from lakesentinel.alerts.commands import COMMANDS
from lakesentinel.health import expected_streams

# Needs a lakehouse built by the monitor and gold (minutes on 2 cores): run with -m extended.
pytestmark = pytest.mark.extended


def test_overview_scores_every_domain_and_lists_the_freshness_of_every_stream(client, app_lake):
    body = client.get("/api/overview").json()
    assert [h["domain"] for h in body["health"]] == ["cost", "security", "performance", "reliability"]
    active = [i for i in body["open_incidents"] if i["status"] != "resolved"]
    assert active, "the simulated organisation's scenarios opened incidents"
    # A domain with active incidents scores below 100.
    hit = {i["domain"] for i in active}
    assert any(h["score"] < 100 for h in body["health"] if h["domain"] in hit or h["domain"] == "performance"
               and "query" in hit)
    streams = {f["stream"]: f for f in body["freshness"]}
    assert {name for name, _ in expected_streams(app_lake)} <= set(streams)
    assert all(streams[f"bronze.{t}"]["last_seen_at"] for t in app_lake.sources), "every source stream ran"
    days = body["spend"]["days"]
    assert days and all(d["list_cost"] > 0 and d["budget"] > 0 for d in days)


def test_each_domain_page_charts_gold_and_lists_top_rows(client):
    for domain in ("cost", "security", "performance", "reliability"):
        page = client.get(f"/api/domains/{domain}").json()
        assert page["gold_ready"], domain
        assert page["series"][0]["points"], domain
        assert any(t["rows"] for t in page["tables"]), domain


def test_an_unknown_incident_is_a_404_naming_it(client):
    response = client.get("/api/incidents/nosuchincident")
    assert response.status_code == 404 and "nosuchincident" in response.json()["detail"]


def test_a_bad_matcher_is_refused_naming_it(client):
    response = client.post("/api/silences/preview", json={"matchers": ["rule_id=~(unclosed"]})
    assert response.status_code == 400 and "(unclosed" in response.json()["detail"]


def test_the_preview_lists_the_active_incidents_a_silence_would_mute(client):
    active = client.get("/api/incidents", params={"status": ["open", "acknowledged"]}).json()
    rule = active[0]["rule_id"]
    hits = client.post("/api/silences/preview", json={"matchers": [f'rule_id="{rule}"']}).json()
    assert {h["incident_id"] for h in hits} == {i["incident_id"] for i in active if i["rule_id"] == rule}


def test_incident_detail_carries_its_alerts_as_evidence_and_a_timeline(client):
    incident = client.get("/api/incidents").json()[0]
    detail = client.get(f"/api/incidents/{incident['incident_id']}").json()
    assert detail["alerts"] and all(a["evidence"] is not None for a in detail["alerts"])
    kinds = [e["kind"] for e in detail["timeline"]]
    assert {"opened", "alert"} <= set(kinds)
    assert [e["at"] for e in detail["timeline"]] == sorted(e["at"] for e in detail["timeline"])


def test_resolve_records_a_request_for_the_lifecycle_like_the_cli(client, app_lake):
    incident = client.get("/api/incidents", params={"status": ["open"]}).json()[-1]
    response = client.post(f"/api/incidents/{incident['incident_id']}/resolve", json={"note": "fixed"},
                           headers={"x-forwarded-email": "ana@example.com"})
    assert response.status_code == 200, response.text
    tables = Context(app_lake).ops_tables
    rows = [r for r in tables.read(tables.name("ops", COMMANDS)) if r["command_id"] == response.json()["command_id"]]
    assert rows and rows[0]["action"] == "resolve" and rows[0]["requested_by"] == "ana@example.com"


def test_renotify_without_a_dead_letter_says_so(client):
    incident = client.get("/api/incidents").json()[0]
    response = client.post(f"/api/incidents/{incident['incident_id']}/renotify")
    assert response.status_code == 400 and "no dead-lettered notification" in response.json()["detail"]


def test_chat_says_no_copilot_is_configured(client):
    assert client.post("/api/chat", json={"message": "why did cost jump?"}).json() == {"configured": False, "answer": None}
    assert client.get("/api/meta").json()["copilot_configured"] is False
