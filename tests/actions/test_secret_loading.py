"""Secrets are stripped and checked when they are read: a pasted token's trailing newline is dropped, an
empty or broken one is an error naming the variable or the scope and key (never the value), and a
Jira token with a trailing newline delivers instead of leaking through the client's error."""

import pytest

from lakesentinel.errors import ConfigError
from lakesentinel.logs import redact
from lakesentinel.notify.config import SecretRef
from tests.fakes.databricks import FakeSecrets


def test_whitespace_around_a_secret_is_stripped_and_every_form_is_masked(monkeypatch):
    monkeypatch.setenv("LS_T_TOKEN", "  tok/en+with=forms-1\r\n")
    assert SecretRef(env="LS_T_TOKEN").resolve() == "tok/en+with=forms-1"
    assert redact("a tok%2Fen%2Bwith%3Dforms-1 b dG9rL2VuK3dpdGg9Zm9ybXMtMQ c") == "a *** b *** c"


@pytest.mark.parametrize("value, reason", [("", "is empty"), (" \n\t", "is empty"),
                                           ("first-half\nsecond-half", "control character")])
def test_an_empty_or_broken_secret_names_the_variable_not_the_value(monkeypatch, value, reason):
    monkeypatch.setenv("LS_T_BROKEN", value)
    with pytest.raises(ConfigError) as err:
        SecretRef(env="LS_T_BROKEN").resolve()
    assert "environment variable LS_T_BROKEN" in str(err.value) and reason in str(err.value)
    assert "half" not in str(err.value)


def test_a_databricks_secret_is_stripped_and_an_empty_one_names_scope_and_key(monkeypatch):
    with FakeSecrets({("team", "jira"): "jira-from-scope-123\n", ("team", "blank"): "\n"}) as fake:
        for k in ("DATABRICKS_CONFIG_PROFILE", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"):
            monkeypatch.delenv(k, raising=False)
        monkeypatch.setenv("DATABRICKS_CONFIG_FILE", "/nonexistent/.databrickscfg")
        monkeypatch.setenv("DATABRICKS_HOST", fake.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", fake.token)
        assert SecretRef(secret={"scope": "team", "key": "jira"}).resolve() == "jira-from-scope-123"
        with pytest.raises(ConfigError, match="Databricks secret team/blank is empty"):
            SecretRef(secret={"scope": "team", "key": "blank"}).resolve()


def test_a_jira_token_with_a_trailing_newline_delivers(deployment, services, outbox, tokens, monkeypatch):
    import threading

    from lakesentinel.context import Context

    monkeypatch.setenv("LS_TEST_JIRA_TOKEN", tokens["LS_TEST_JIRA_TOKEN"] + "\n")
    outbox(deployment.cfg, groups=1, kinds=("jira",))
    stats = Context(deployment.cfg, routes=deployment.write()).worker(threading.Event()).run(until_idle=True, timeout=60)
    assert stats.delivered == 1 and len(services.jira.issues) == 1
