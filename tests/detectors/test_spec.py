"""Spec loading: the shipped specs load, and every invalid case is reported with file, line, id and key."""

import json
import shutil

import pytest

from lakesentinel.detectors.spec import DetectorSpecError, json_schema, load_specs, parse_spec
from tests.detectors.conftest import SHIPPED, TESTDATA

D = "one of: workspace_id, sku_name, cloud, billing_origin_product, usage_type, cluster_id, warehouse_id, job_id, " \
    "pipeline_id, endpoint_name, run_as, owned_by, tags.<key>"

CASES = {
    "unknown_key.yaml": [
        "unknown_key.yaml:10:1: error [test.unknown_key] key 'alert': 'title' is a required property "
        "(schema)",
        "unknown_key.yaml:12:3: error [test.unknown_key] key 'alert.titel': unknown key 'titel' (did you "
        "mean 'title'?); allowed: for_windows, labels, protect, protect_windows, runbook_url, severity, "
        "summary, title (schema)",
    ],
    "unknown_names.yaml": [
        "unknown_names.yaml:5:26: error [test.unknown_names] key 'metric.entity[1]': unknown dimension "
        f"'skuname' of billing.usage (did you mean 'sku_name'?); {D} (meaning)",
        "unknown_names.yaml:9:20: error [test.unknown_names] key 'metric.features[0].measure': unknown "
        "measure 'list_costs' of billing.usage (did you mean 'list_cost'?); one of: usage_quantity, "
        "list_cost, records (meaning)",
        "unknown_names.yaml:12:12: error [test.unknown_names] key 'model.params.transfrom': unknown "
        "parameter of robust_quantile (did you mean 'transform'?); its parameters: window_size, "
        "seasonality, slot_window, min_slot_samples, transform, direction, min_scale, min_deviation, "
        "score_scale, shift_smoothing (meaning)",
        "unknown_names.yaml:15:3: error [test.unknown_names] key 'alert.title': unknown field {sku} (did "
        "you mean 'skuname'?); templates may use: cost, detector, entity_id, entity_type, expected, "
        "observed, score, severity, skuname, window_end, window_start, workspace_id (meaning)",
    ],
    "wrong_shapes.yaml": [
        "wrong_shapes.yaml:7:12: error [test.wrong_shapes] key 'metric.window.size': not a duration: '1 "
        "fortnight' (use e.g. 30s, 15m, 1h, 14d) (schema)",
        "wrong_shapes.yaml:15:3: error [test.wrong_shapes] key 'alert.severity': severity thresholds must"
        " increase with severity (schema)",
    ],
    "meaning.yaml": [
        "meaning.yaml:8:27: error [test.univariate_two_features] key 'metric.window.empty': an empty "
        "window is a zero only when every feature is a sum or count (meaning)",
        "meaning.yaml:9:7: error [test.univariate_two_features] key 'metric.features': model "
        "robust_quantile reads exactly one feature, got 2 (meaning)",
        "meaning.yaml:11:43: error [test.univariate_two_features] key 'metric.features[1].agg': measure "
        "'queries' takes a numeric aggregate, not 'count_distinct' (meaning)",
        "meaning.yaml:14:30: error [test.univariate_two_features] key 'evaluation.scenarios[0]': unknown "
        "scenario type 'slow_queries'; one of: runaway_cluster, serverless_sql_spend_surge, "
        "untagged_spend_surge, brute_force_login, token_creation_burst, off_hours_admin, mass_download, "
        "privilege_escalation, security_setting_changed, secret_harvesting, job_failure_streak, "
        "query_latency_regression, warehouse_queue_saturation (meaning)",
        "meaning.yaml:21:26: error [test.forecast_needs_regular_series] key 'metric.window.empty': a "
        "seasonal forecast needs a regular series: use sum or count features, or set empty: zero "
        "(meaning)",
    ],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_problem_of_a_file_is_reported_exactly(tmp_path, case):
    shutil.copy(TESTDATA / case, tmp_path / case)
    with pytest.raises(DetectorSpecError) as caught:
        load_specs(tmp_path)
    assert [str(i).replace(f"{tmp_path}/", "") for i in caught.value.issues] == CASES[case]


def test_invalid_yaml_names_the_line(tmp_path):
    shutil.copy(TESTDATA / "not_yaml.yaml", tmp_path / "not_yaml.yaml")
    with pytest.raises(DetectorSpecError) as caught:
        load_specs(tmp_path)
    (issue,) = caught.value.issues
    assert (issue.line, issue.id) == (2, None) and "not valid YAML" in issue.message


def test_problems_of_all_files_come_together_and_ids_are_unique(tmp_path):
    for case in ("unknown_key.yaml", "wrong_shapes.yaml"):
        shutil.copy(TESTDATA / case, tmp_path / case)
    shutil.copy(TESTDATA / "valid.yaml", tmp_path / "a.yaml")
    shutil.copy(TESTDATA / "valid.yaml", tmp_path / "b.yaml")
    with pytest.raises(DetectorSpecError) as caught:
        load_specs(tmp_path)
    text = str(caught.value)
    assert text.startswith("5 error(s) in detector specs:")
    assert f"{tmp_path}/b.yaml: error [test.cost] key 'id': id already used in {tmp_path}/a.yaml" in text
    assert "unknown_key.yaml:12" in text and "wrong_shapes.yaml:15" in text


def test_duplicate_yaml_keys_are_refused():
    text = (TESTDATA / "valid.yaml").read_text().replace("domain: cost\n", "domain: cost\ndomain: query\n")
    with pytest.raises(DetectorSpecError, match=r"<string>:3:1: error duplicate key 'domain' \(yaml\)"):
        parse_spec(text)


def test_shipped_specs_load_and_round_trip(shipped_specs):
    import yaml

    assert len(shipped_specs) >= 5
    for spec in shipped_specs:
        again = parse_spec(yaml.safe_dump(spec.to_dict()), spec.file)
        assert again.to_dict() == spec.to_dict()
        assert spec.evaluation.scenarios, f"{spec.id} names no scenario types it is for"
    assert {s.model.type for s in shipped_specs} >= {"half_space_trees", "forecast_residual", "robust_quantile"}


def test_published_schema_matches_the_model():
    published = json.loads((SHIPPED / "detector.schema.json").read_text())
    assert published == json_schema(), "regenerate rules/detectors/detector.schema.json (see docs/detectors.md)"


def test_disabled_specs_are_left_out_unless_asked(tmp_path):
    text = (TESTDATA / "valid.yaml").read_text()
    (tmp_path / "on.yaml").write_text(text)
    (tmp_path / "off.yaml").write_text(text.replace("id: test.cost", "id: test.off\nenabled: false"))
    assert [s.id for s in load_specs(tmp_path)] == ["test.cost"]
    assert [s.id for s in load_specs(tmp_path, include_disabled=True)] == ["test.cost", "test.off"]


def test_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(DetectorSpecError, match="no such directory"):
        load_specs(tmp_path / "nowhere")
