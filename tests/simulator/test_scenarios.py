"""Every injected scenario leaves ground truth and visible traces in the source tables."""

import pytest

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.simulator.scenarios import SCENARIOS

# One query per scenario type; {t[...]} are source tables, {s}/{e} the window, {id} the entity.
TRACES = {
    "runaway_cluster": """SELECT (SELECT max(usage_quantity) FROM {usage} WHERE usage_metadata.cluster_id = '{id}'
            AND usage_start_time >= '{s}' AND usage_start_time < '{e}')
        > 3 * (SELECT coalesce(max(usage_quantity), 0) FROM {usage} WHERE usage_metadata.cluster_id = '{id}'
            AND (usage_start_time < '{s}' - INTERVAL 1 HOUR OR usage_start_time >= '{e}' + INTERVAL 1 HOUR))
        AND EXISTS (SELECT 1 FROM {clusters} WHERE cluster_id = '{id}' AND max_autoscale_workers = 40)""",
    "serverless_sql_spend_surge": """SELECT avg(CASE WHEN usage_start_time >= '{s}' AND usage_start_time < '{e}'
            THEN usage_quantity END) > 3 * avg(CASE WHEN usage_start_time < '{s}' - INTERVAL 1 HOUR
            OR usage_start_time >= '{e}' + INTERVAL 1 HOUR THEN usage_quantity END) FROM {usage} WHERE usage_metadata.warehouse_id = '{id}'""",
    "untagged_spend_surge": """SELECT sum(usage_quantity) > 100 AND max(size(custom_tags)) = 0 FROM {usage}
        WHERE usage_metadata.job_id = '{id}'""",
    "brute_force_login": """SELECT count(*) >= 20 FROM {audit} WHERE action_name = 'login'
        AND response.status_code = 401 AND request_params.user = '{id}' AND event_time BETWEEN '{s}' AND '{e}'""",
    "token_creation_burst": """SELECT count(*) >= 5 FROM {audit} WHERE action_name = 'generateDbToken'
        AND user_identity.email = '{id}' AND event_time BETWEEN '{s}' AND '{e}'
        AND CAST(request_params.tokenExpirationTime AS BIGINT) - unix_millis(event_time) > 72 * 3600 * 1000""",
    "off_hours_admin": """SELECT count(*) >= 2 AND max(hour(event_time)) < 5 FROM {audit}
        WHERE user_identity.email = '{id}' AND action_name IN ('setAdmin', 'workspaceConfEdit')
        AND event_time BETWEEN '{s}' AND '{e}'""",
    "mass_download": """SELECT count(*) >= 40 FROM {audit} WHERE user_identity.email = '{id}'
        AND action_name IN ('downloadQueryResult', 'downloadLargeResults', 'workspaceExport')
        AND event_time BETWEEN '{s}' AND '{e}'""",
    "privilege_escalation": """SELECT (SELECT count(*) FROM {audit} WHERE action_name = 'addPrincipalToGroup'
            AND request_params.targetGroupName = 'admins' AND request_params.targetUserName = '{id}'
            AND event_time BETWEEN '{s}' AND '{e}') = 1
        AND (SELECT count(*) FROM {audit} WHERE user_identity.email = '{id}'
            AND action_name IN ('downloadQueryResult', 'downloadLargeResults', 'workspaceExport')
            AND event_time BETWEEN '{s}' AND '{e}') >= 20""",
    "security_setting_changed": """SELECT count(*) = 3 FROM {audit} WHERE workspace_id = '{id}'
        AND (action_name IN ('updateIpAccessList', 'deleteIpAccessList')
             OR request_params.workspaceConfKeys = 'enableIpAccessLists') AND event_time BETWEEN '{s}' AND '{e}'""",
    "secret_harvesting": """SELECT count(DISTINCT request_params.key) >= 15 FROM {audit}
        WHERE action_name = 'getSecret' AND user_identity.email = '{id}' AND event_time BETWEEN '{s}' AND '{e}'""",
    "job_failure_streak": """SELECT count(*) >= 4 FROM {runs} WHERE job_id = '{id}' AND result_state = 'FAILED'
        AND period_start_time BETWEEN '{s}' AND '{e}'""",
    "query_latency_regression": """SELECT percentile(CASE WHEN start_time BETWEEN '{s}' AND '{e}'
            THEN execution_duration_ms END, 0.5) > 3 * percentile(CASE WHEN start_time NOT BETWEEN '{s}' AND '{e}'
            THEN execution_duration_ms END, 0.5) FROM {queries}
        WHERE compute.warehouse_id = '{id}' AND NOT from_result_cache""",
    "warehouse_queue_saturation": """SELECT (SELECT avg(waiting_at_capacity_duration_ms) FROM {queries}
            WHERE compute.warehouse_id = '{id}' AND start_time BETWEEN '{s}' AND '{e}') > 10000
        AND ((SELECT count(*) FROM {events} WHERE warehouse_id = '{id}' AND event_type = 'SCALED_UP'
            AND event_time BETWEEN '{s}' - INTERVAL 1 HOUR AND '{e}') > 0
            OR (SELECT max(max_clusters) FROM {warehouses} WHERE warehouse_id = '{id}') = 1)""",
}


def test_every_scenario_type_has_a_trace_query():
    assert set(TRACES) == set(SCENARIOS)


def test_ground_truth_table_lists_every_injected_scenario(sim_spark, simulated):
    cfg, sim, _ = simulated
    rows = sim_spark.table(cfg.simulator.ground_truth_table).collect()
    assert sorted(r["scenario_id"] for r in rows) == sorted(t.scenario_id for t in sim.truths)
    assert {r["scenario_type"] for r in rows} == set(SCENARIOS)
    assert all(r["start_time"] < r["end_time"] and r["entity_id"] and r["workspace_id"] for r in rows)


@pytest.mark.parametrize("scenario_type", sorted(SCENARIOS))
def test_scenario_leaves_visible_traces(sim_spark, simulated, scenario_type):
    cfg, sim, _ = simulated
    lh = Lakehouse(cfg)
    names = {"usage": "billing.usage", "clusters": "compute.clusters", "audit": "access.audit",
             "runs": "lakeflow.job_run_timeline", "queries": "query.history",
             "events": "compute.warehouse_events", "warehouses": "compute.warehouses"}
    from lakesentinel.simulator.clock import from_us

    truths = [t for t in sim.truths if t.scenario_type == scenario_type]
    assert truths, scenario_type
    for truth in truths:
        fmt = lambda us: from_us(us).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
        sql = TRACES[scenario_type].format(id=truth.entity_id, s=fmt(truth.start_time), e=fmt(truth.end_time),
                                           **{k: lh.source(v) for k, v in names.items()})
        assert sim_spark.sql(sql).first()[0] is True, f"{scenario_type}: no trace for {truth.entity_id}"
