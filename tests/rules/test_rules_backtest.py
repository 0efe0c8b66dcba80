"""Backtests over the simulated organisation: every injected security scenario found, few false alerts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lakesentinel.rules.backtest import matches, run_backtest
from tests.conftest import SIM_DAYS, SIM_START

START = datetime(SIM_START.year, SIM_START.month, SIM_START.day, tzinfo=timezone.utc)


def test_backtest_finds_every_injected_security_scenario(sim_spark, simulated):
    cfg, sim, _ = simulated
    result = run_backtest(sim_spark, cfg, since=START, until=START + timedelta(days=SIM_DAYS))
    security = [t for t in result.truths if t["domain"] == "security"]
    assert len(security) == 7  # one of each security scenario type
    missed = [t["scenario_type"] for t in security if not result.detected.get(t["scenario_id"])]
    assert missed == []
    assert result.false_alerts_per_day("security") <= 1.0
    # Precision and recall are per rule; the brute-force rule names the attacked user.
    score = result.scores["security.repeated_failed_logins"]
    assert score.recall == 1.0 and score.precision == 1.0
    brute = next(t for t in security if t["scenario_type"] == "brute_force_login")
    fired = [a for a in result.alerts if a["rule_id"] == "security.repeated_failed_logins"]
    assert [a["entity_id"] for a in fired] == [brute["entity_id"]]
    assert sum(score.per_day.values()) == score.alerts == 1
    report = result.to_dict()
    assert report["scenarios"]["security"] == {"found": 7, "total": 7}


def test_an_alert_matches_a_scenario_by_entity_and_time():
    t = {"scenario_id": "s", "domain": "cost", "start_time": START, "end_time": START + timedelta(hours=2),
         "workspace_id": "9", "entity_type": "job", "entity_id": "j1", "entities": {"job_id": "j1"}}

    def alert(entity, etype="job", start=START, ws="9"):
        return {"entity_id": entity, "entity_type": etype, "workspace_id": ws, "domain": "cost",
                "window_start": start, "window_end": start + timedelta(hours=1)}

    assert matches(alert("j1"), t) and not matches(alert("j2"), t)
    assert not matches(alert("j1", start=START + timedelta(hours=4)), t)  # outside the scenario (+1h slack)
    assert matches(alert("9", "workspace"), t) and not matches(alert("8", "workspace", ws="8"), t)
