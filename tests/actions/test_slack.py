"""Slack receiver against the fake Slack Web API, through slack-sdk's WebClient."""

import pytest

from lakesentinel.notify.config import SecretRef, SlackConfig
from lakesentinel.actions.slack import SlackReceiver
from tests.fakes.notifications import incident, notification
from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-test-1234567890-abcdef"


@pytest.fixture
def slack(monkeypatch):
    monkeypatch.setenv("TEST_SLACK_TOKEN", TOKEN)
    with FakeSlack(TOKEN) as fake:
        yield fake


def receiver(fake, channel="#secops", timeout=2.0):
    cfg = SlackConfig(channel=channel, token=SecretRef(env="TEST_SLACK_TOKEN"), base_url=fake.api_url)
    return SlackReceiver("secops/slack", cfg, timeout=timeout)


def test_first_post_then_update_in_place_and_reply_in_thread(slack):
    r = receiver(slack)
    first = r.notify(notification(1), {})
    assert first.status == "delivered" and first.refs["ts"] and first.refs["channel"].startswith("C")
    [msg] = slack.top_level()
    assert msg["metadata"]["event_payload"]["idempotency_key"] == notification(1).idempotency_key
    assert msg["blocks"][0]["type"] == "header" and "FIRING" in msg["blocks"][0]["text"]["text"]
    assert any(b["type"] == "actions" for b in msg["blocks"]), "runbook button"

    both = [incident(1), incident(2, severity="high")]
    assert r.notify(notification(2, "update", incidents=both), first.refs).status == "delivered"
    resolved = [incident(1, status="resolved", resolved_by="oncall@x.com"), incident(2, status="resolved")]
    assert r.notify(notification(3, "resolved", incidents=resolved), first.refs).status == "delivered"

    assert len(slack.top_level()) == 1, "re-notify and resolve never post a second top-level message"
    assert msg["edits"] == 2 and "RESOLVED" in msg["text"]
    replies = slack.replies_to(first.refs["ts"])
    assert [r_["text"].split(":")[0].split(" (")[0] for r_ in replies] == ["Updated", "Resolved"]
    assert "oncall@x.com" in replies[1]["text"]


def test_rate_limit_is_retryable_with_retry_after(slack):
    slack.fail(429, retry_after=7, path="chat.postMessage")
    out = receiver(slack).notify(notification(1), {})
    assert out.status == "retryable" and out.retry_after == 7.0
    assert slack.messages == []


def test_server_error_retryable_and_bad_channel_permanent(slack):
    slack.fail(500)
    assert receiver(slack).notify(notification(1), {}).status == "retryable"
    out = receiver(slack, channel="").notify(notification(1), {})
    assert out.status == "permanent" and "channel_not_found" in out.error


def test_wrong_token_is_permanent_and_never_quoted(slack, monkeypatch):
    monkeypatch.setenv("TEST_SLACK_TOKEN", "xoxb-wrong-0000000000")
    out = receiver(slack).notify(notification(1), {})
    assert out.status == "permanent" and "invalid_auth" in out.error
    assert "xoxb-wrong" not in out.error


def test_lost_reply_is_found_by_its_metadata_instead_of_posting_again(slack):
    r = receiver(slack, timeout=1.0)
    n = notification(1)
    slack.hang(5, path="chat.postMessage", after_handling=True)  # Slack posts it; we never hear back
    assert r.notify(n, {}).status == "retryable"
    slack.clear_faults()
    found = r.find_delivered(n, {})
    assert found is not None and found.status == "delivered"
    assert found.refs["ts"] == slack.top_level()[0]["ts"]
    assert len(slack.messages) == 1
    assert r.find_delivered(notification(1, episode="other"), {}) is None, "another key is not mistaken for it"


def test_lost_thread_reply_is_found_in_the_thread(slack):
    r = receiver(slack, timeout=1.0)
    refs = r.notify(notification(1), {}).refs
    update = notification(2, "update")
    slack.hang(5, path="chat.postMessage", after_handling=True)
    assert r.notify(update, refs).status == "retryable"
    slack.clear_faults()
    assert r.find_delivered(update, refs).status == "delivered"
    assert r.find_delivered(notification(3, "repeat"), refs) is None
    assert len(slack.replies_to(refs["ts"])) == 1


def test_a_deleted_message_is_replaced_not_dead_lettered(slack):
    r = receiver(slack)
    refs = r.notify(notification(1), {}).refs
    slack.messages.clear()  # someone deleted it in Slack
    out = r.notify(notification(2, "repeat"), refs)
    assert out.status == "delivered" and out.refs["ts"] != refs["ts"]
    assert len(slack.top_level()) == 1 and "FIRING" in slack.top_level()[0]["text"]


def test_a_lost_post_is_found_in_a_busy_channel(slack):
    r = receiver(slack, timeout=1.0)
    n = notification(1)
    slack.hang(5, path="chat.postMessage", after_handling=True)
    assert r.notify(n, {}).status == "retryable"
    slack.clear_faults()
    for i in range(450):  # others keep talking in the channel after our post
        r.notify(notification(1, episode=f"busy{i}"), {})
    found = r.find_delivered(n, {})
    assert found is not None and found.refs["ts"] == slack.top_level()[0]["ts"]
    assert len(slack.calls("conversations.history")) == 3, "pages of 200"
