"""The lifecycle as timelines: push at t, expect a notification between a and b (simulated seconds)."""

from __future__ import annotations

import json
from datetime import timedelta

from lakesentinel.alerts.engine import Engine
from lakesentinel.alerts.silences import Silence


def cost_alert(make_alert, entity="c1", **kw):
    kw.setdefault("severity", "medium")
    return make_alert("cost.idle_cluster", entity=entity, domain="cost", **kw)


# ---- deduplication and routing ---------------------------------------------------------------

def test_the_same_alert_twice_is_one_alert_and_a_new_firing_joins_the_open_incident(timeline, make_alert):
    a = make_alert(window=0)
    timeline.step([a])
    timeline.step([dict(a)])  # replayed batch
    (inc,) = timeline.engine.incidents.values()
    assert inc.alert_count == 1
    timeline.step([make_alert(window=1)])
    (inc,) = timeline.engine.incidents.values()
    assert inc.alert_count == 2
    assert inc.last_seen - inc.first_seen == timedelta(hours=2)


def test_routes_first_match_wins_unless_continue_and_the_root_catches_the_rest(timeline, make_alert):
    timeline.step([make_alert("sec.x", domain="security"), make_alert("cost.x", domain="cost"),
                   make_alert("query.x", domain="query")])
    by_rule = {i.rule_id: i for i in timeline.engine.incidents.values()}
    assert by_rule["sec.x"].receivers == ["feed", "sec"]  # 'sec' continues into 'sec-feed'
    assert by_rule["cost.x"].receivers == ["cost"]
    assert by_rule["query.x"].receivers == ["default"]
    assert by_rule["sec.x"].routes == ["sec", "sec-feed"]


def test_an_alert_that_does_not_fit_the_record_is_quarantined_with_the_reason(timeline, make_alert):
    bad = make_alert(severity="urgent")
    result = timeline.step([bad, make_alert(entity="u2")])
    assert len(timeline.engine.incidents) == 1
    ((row, reason),) = result.quarantined
    assert row["alert_id"] == bad["alert_id"]
    assert "severity" in reason and bad["alert_id"] in reason


# ---- grouping --------------------------------------------------------------------------------

def test_group_wait_collects_companions_then_group_interval_batches_updates(timeline, make_alert):
    timeline.step()
    timeline.run_until(1)
    timeline.step([cost_alert(make_alert, "c1")])  # t=1 opens the group: flush at 31
    timeline.run_until(10)
    timeline.step([cost_alert(make_alert, "c2")])  # t=10 joins the same group (rule, workspace)
    timeline.run_until(60)
    timeline.step([cost_alert(make_alert, "c3")])  # t=60: after the first flush
    timeline.run_until(400)
    sent = timeline.to("cost")
    assert [(t, n.reason, len(n.incidents)) for t, n in sent] == [(31, "firing", 2), (331, "update", 3)]
    assert [n.seq for _, n in sent] == [1, 2]
    assert len({n.idempotency_key for _, n in sent}) == 2


def test_other_group_labels_make_another_group(timeline, make_alert):
    timeline.step([cost_alert(make_alert, "c1"), cost_alert(make_alert, "c2", workspace="ws2")])
    timeline.run_until(40)
    sent = timeline.to("cost")
    assert len(sent) == 2
    assert {n.group_labels["workspace_id"] for _, n in sent} == {"ws1", "ws2"}
    assert all(30 <= t <= 31 for t, _ in sent)


def test_group_wait_zero_notifies_in_the_same_step(timeline, make_alert):
    timeline.run_until(5)
    timeline.step([make_alert()])
    (first,) = timeline.to("sec")
    assert first[0] == 5 and first[1].reason == "firing"
    timeline.run_until(40)
    (feed,) = timeline.to("feed")  # 'sec-feed' waits its 30 s
    assert 35 <= feed[0] <= 36


# ---- repeat ----------------------------------------------------------------------------------

def test_repeat_interval_reminds_while_firing_and_stops_once_acknowledged(timeline, make_alert):
    timeline.step([cost_alert(make_alert)])
    timeline.run_until(2 * 3600 + 100, alerts_every=300, alert_factory=lambda **kw: cost_alert(make_alert, **kw))
    sent = timeline.to("cost")
    assert [n.reason for _, n in sent] == ["firing", "repeat", "repeat"]
    assert 30 <= sent[0][0] <= 31
    assert 3630 <= sent[1][0] <= 3630 + 300 + 1  # repeat_interval, at a group_interval tick
    assert sent[2][0] - sent[1][0] >= 3600

    (inc,) = timeline.engine.incidents.values()
    timeline.ack(inc.incident_id)
    timeline.run_until(5 * 3600, alerts_every=300, alert_factory=lambda **kw: cost_alert(make_alert, **kw))
    assert len(timeline.to("cost")) == 3
    (inc,) = timeline.engine.incidents.values()
    assert inc.status == "acknowledged" and inc.acknowledged_by == "oncall@x.com"


# ---- silences --------------------------------------------------------------------------------

def test_a_silence_mutes_until_it_ends_then_the_incident_is_notified(timeline, make_alert):
    silence = Silence.create(["rule_id=sec.failed_logins"], None, timeline.now + timedelta(hours=1), "ana",
                             "pen test", now=timeline.now)
    timeline.silences = [silence]
    timeline.run_until(5)
    timeline.step([make_alert()])
    (inc,) = timeline.engine.incidents.values()
    assert inc.status == "silenced" and inc.muted_by == f"silence:{silence.silence_id}"
    timeline.run_until(3600 + 120, alerts_every=300)
    sent = timeline.to("sec")
    assert sent, "the incident is notified once the silence is over"
    assert 3600 <= sent[0][0] <= 3600 + 61
    assert sent[0][1].reason == "firing"
    assert timeline.engine.incidents[inc.incident_id].status == "open"


def test_expiring_a_silence_early_unmutes_at_once(timeline, make_alert):
    silence = Silence.create(["domain=security"], None, timeline.now + timedelta(days=1), "ana", "noise",
                             now=timeline.now)
    timeline.silences = [silence]
    timeline.step([make_alert()])
    timeline.run_until(100)
    assert timeline.to("sec") == []
    from dataclasses import replace

    timeline.silences = [replace(silence, expired_at=timeline.now, expired_by="bob")]
    timeline.run_until(200)
    assert len(timeline.to("sec")) == 1


def test_a_silence_that_does_not_match_mutes_nothing(timeline, make_alert):
    timeline.silences = [Silence.create(["workspace_id=ws9"], None, timeline.now + timedelta(hours=1), "ana", "x",
                                        now=timeline.now)]
    timeline.step([make_alert()])
    assert len(timeline.to("sec")) == 1


# ---- inhibition ------------------------------------------------------------------------------

def test_a_critical_incident_mutes_lesser_ones_on_the_same_entity_only(timeline, make_alert):
    crit = cost_alert(make_alert, "c1", severity="critical")
    same_entity = make_alert("cost.spend_spike", entity="c1", domain="cost", severity="high")
    other_entity = make_alert("cost.spend_spike", entity="c2", domain="cost", severity="high")
    timeline.step([crit, same_entity, other_entity])
    by = {(i.rule_id, i.entity_id): i for i in timeline.engine.incidents.values()}
    source = by[("cost.idle_cluster", "c1")]
    assert by[("cost.spend_spike", "c1")].status == "silenced"
    assert by[("cost.spend_spike", "c1")].muted_by == f"inhibited:{source.incident_id}"
    assert by[("cost.spend_spike", "c2")].status == "open"
    timeline.run_until(40)
    shown = {(i.rule_id, i.entity_id) for _, n in timeline.to("cost") for i in n.incidents}
    assert shown == {("cost.idle_cluster", "c1"), ("cost.spend_spike", "c2")}


def test_inhibition_lifts_when_the_critical_incident_resolves(timeline, make_alert):
    timeline.step([cost_alert(make_alert, "c1", severity="critical"),
                   make_alert("cost.spend_spike", entity="c1", domain="cost", severity="high")])
    # Only the lesser signal keeps firing; the critical one auto-resolves after 10 min of silence.
    timeline.run_until(1500, alerts_every=120, alert_factory=lambda **kw: make_alert(
        "cost.spend_spike", entity="c1", domain="cost", severity="high", **kw))
    lesser = next(i for i in timeline.engine.incidents.values() if i.rule_id == "cost.spend_spike")
    assert lesser.status == "open" and lesser.muted_by is None
    shown = [(t, i.rule_id) for t, n in timeline.to("cost") for i in n.incidents if i.status != "resolved"]
    assert any(rule == "cost.spend_spike" and t >= 600 for t, rule in shown)


# ---- auto-resolve and manual resolution --------------------------------------------------------

def test_auto_resolve_after_the_signal_stops_sends_a_resolved_notification(timeline, make_alert):
    timeline.run_until(1)
    timeline.step([make_alert()])
    timeline.run_until(700)
    sent = timeline.to("sec")
    assert [(n.reason, n.status) for _, n in sent] == [("firing", "firing"), ("resolved", "resolved")]
    assert 601 <= sent[1][0] <= 662
    (resolved,) = sent[1][1].incidents
    assert resolved.resolved_by == "lakesentinel" and resolved.resolution.startswith("auto")
    assert timeline.engine.incidents == {}  # reported, then forgotten
    last = [inc for r in timeline.results for inc in r.changed.values()][-1].fact_row()
    assert last["status"] == "resolved" and last["time_to_resolve_s"] >= 600


def test_the_signal_coming_back_opens_a_new_incident_and_a_new_thread(timeline, make_alert):
    timeline.step([make_alert(window=0)])
    timeline.run_until(700)
    first = timeline.to("sec")
    timeline.step([make_alert(window=5)])
    sent = timeline.to("sec")
    assert len(sent) == 3 and sent[2][1].reason == "firing"
    assert sent[2][1].episode != first[0][1].episode
    assert sent[2][1].incidents[0].incident_id != first[0][1].incidents[0].incident_id
    assert len({n.idempotency_key for _, n in sent}) == 3


def test_send_resolved_false_keeps_the_receiver_quiet_on_resolve(timeline, make_alert):
    timeline.step([cost_alert(make_alert)])
    timeline.run_until(1500)
    assert [n.reason for _, n in timeline.to("cost")] == ["firing"]


def test_manual_resolve_and_ack_are_recorded_with_who_and_when(timeline, make_alert):
    timeline.step([make_alert()])
    (inc,) = timeline.engine.incidents.values()
    timeline.run_until(120)
    result = timeline.ack(inc.incident_id, by="ana")
    assert result.commands[0][1] == "applied"
    timeline.run_until(300)
    result = timeline.resolve(inc.incident_id, by="bob", note="rotated the key")
    row = result.changed[inc.incident_id].fact_row()
    assert row["status"] == "resolved" and row["resolved_by"] == "bob" and row["acknowledged_by"] == "ana"
    assert row["time_to_acknowledge_s"] == 120 and row["time_to_resolve_s"] == 300
    assert row["resolution"] == "manual: rotated the key"
    timeline.run_until(400)
    assert timeline.to("sec")[-1][1].reason == "resolved"
    late = timeline.ack(inc.incident_id)
    assert late.commands[0][1].startswith("not applied")


# ---- restarts ----------------------------------------------------------------------------------

def test_a_restored_snapshot_continues_exactly_where_the_engine_stopped(routes, make_alert, new_timeline):
    def run(restart_at: float | None):
        tl = new_timeline()
        pushes = {1: [cost_alert(make_alert, "c1")], 50: [make_alert()], 400: [cost_alert(make_alert, "c2")]}
        while tl.t < 1200:
            tl.now += tl.tick
            if restart_at is not None and tl.t == restart_at:
                snap = json.loads(json.dumps(tl.engine.snapshot()))
                tl.engine = Engine.restore(routes, snap)
            tl.step(pushes.get(tl.t, []))
        return [(t, n.idempotency_key, n.reason) for t, n in tl.sent]

    baseline = run(None)
    assert len(baseline) >= 4
    assert run(200) == baseline
    assert run(601) == baseline
