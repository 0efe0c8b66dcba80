"""Webhook receiver against a fake receiver that verifies the signature and dedupes on Idempotency-Key."""

import json

import pytest

from lakesentinel.notify.config import SecretRef, WebhookConfig
from lakesentinel.actions.webhook import WebhookReceiver, sign
from tests.fakes.notifications import notification
from tests.fakes.webhook import FakeWebhook

SECRET = "whsec-test-0123456789"


@pytest.fixture
def hook(monkeypatch):
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    with FakeWebhook(SECRET) as fake:
        yield fake


def receiver(fake, timeout=2.0, secret="TEST_WEBHOOK_SECRET"):
    cfg = WebhookConfig(url=fake.url + "/hook", secret=SecretRef(env=secret) if secret else None,
                        headers={"X-Team": "secops"})
    return WebhookReceiver("security-feed/webhook", cfg, timeout=timeout, clock=lambda: 1772442000.0)


def test_signed_json_with_idempotency_key(hook):
    n = notification(1, integration="security-feed/webhook")
    assert receiver(hook).notify(n, {}).status == "delivered"
    [req] = hook.requests
    assert req.headers["idempotency-key"] == n.idempotency_key and req.headers["x-team"] == "secops"
    assert req.headers["x-lakesentinel-signature"] == sign(SECRET, "1772442000", n.idempotency_key, req.body)
    body = json.loads(req.body)
    assert body["version"] == 1 and body["status"] == "firing" and body["incidents"][0]["incident_id"] == "inc0001"
    assert hook.accepted[n.idempotency_key]["seq"] == 1


def test_a_wrong_secret_is_refused_permanently(hook, monkeypatch):
    monkeypatch.setenv("OTHER_SECRET", "not-the-right-secret")
    out = receiver(hook, secret="OTHER_SECRET").notify(notification(1), {})
    assert out.status == "permanent" and "401" in out.error and hook.accepted == {}


def test_resend_after_a_lost_reply_is_deduped_by_the_receiver(hook):
    r = receiver(hook, timeout=1.0)
    n = notification(1, integration="security-feed/webhook")
    hook.hang(5, after_handling=True)
    assert r.notify(n, {}).status == "retryable"
    hook.clear_faults()
    assert r.find_delivered(n, {}) is None, "nothing to ask a webhook: re-send with the same key"
    assert r.notify(n, {}).status == "delivered"
    assert len(hook.accepted) == 1 and hook.duplicates == 1


@pytest.mark.parametrize("status, expected", [(429, "retryable"), (500, "retryable"), (502, "retryable"),
                                              (400, "permanent"), (404, "permanent")])
def test_status_classification(hook, status, expected):
    hook.fail(status, retry_after=11 if status == 429 else None)
    out = receiver(hook).notify(notification(1), {})
    assert out.status == expected
    assert out.retry_after == (11.0 if status == 429 else None)


def test_a_hanging_receiver_times_out_as_retryable(hook):
    hook.hang(5)
    out = receiver(hook, timeout=0.5).notify(notification(1), {})
    assert out.status == "retryable" and hook.accepted == {}


def test_a_header_may_name_a_secret(hook, monkeypatch):
    monkeypatch.setenv("TEST_WEBHOOK_BEARER", "bearer-test-77665544")
    cfg = WebhookConfig(url=hook.url + "/hook", secret=SecretRef(env="TEST_WEBHOOK_SECRET"),
                        headers={"Authorization": {"env": "TEST_WEBHOOK_BEARER"}, "X-Team": "secops"})
    assert WebhookReceiver("feed/webhook", cfg).notify(notification(1), {}).status == "delivered"
    [req] = hook.requests
    assert req.headers["authorization"] == "bearer-test-77665544" and req.headers["x-team"] == "secops"


def test_the_signature_covers_the_key_and_a_receiver_with_a_tolerance_refuses_stale_requests(monkeypatch):
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    with FakeWebhook(SECRET, tolerance_s=300) as strict:
        n = notification(1, integration="security-feed/webhook")
        stale = receiver(strict).notify(n, {})  # the fixed clock is months before now
        assert stale.status == "permanent" and strict.accepted == {}
        cfg = WebhookConfig(url=strict.url + "/hook", secret=SecretRef(env="TEST_WEBHOOK_SECRET"))
        assert WebhookReceiver("security-feed/webhook", cfg).notify(n, {}).status == "delivered"
        assert sign(SECRET, "1", "key-a", b"{}") != sign(SECRET, "1", "key-b", b"{}")


def _post(url: str, body: bytes, headers: dict) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="POST"), timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_demo_receiver_verifies_before_it_records_anything():
    import time

    from lakesentinel.actions.webhook import payload
    from lakesentinel.demo.receiver import WebhookReceiver as DemoReceiver

    demo = DemoReceiver(SECRET).start()
    try:
        n = notification(1, integration="demo/webhook")
        body = payload(n)
        now = str(int(time.time()))

        def headers(stamp, key, signature):
            return {"Content-Type": "application/json", "Idempotency-Key": key, "X-Lakesentinel-Timestamp": stamp,
                    "X-Lakesentinel-Signature": signature}

        forged = headers(now, n.idempotency_key, sign("not-the-secret", now, n.idempotency_key, body))
        old = str(int(time.time()) - 3600)
        stale = headers(old, n.idempotency_key, sign(SECRET, old, n.idempotency_key, body))
        genuine = headers(now, n.idempotency_key, sign(SECRET, now, n.idempotency_key, body))
        other_key = {**genuine, "Idempotency-Key": "another-key"}  # a captured request under a new key
        assert [_post(demo.url, body, h) for h in (forged, stale, other_key)] == [401, 401, 401]
        assert demo.received == [] and len(demo.refused) == 3
        assert "stale" in demo.refused[1] and demo.refused[0] == demo.refused[2] == "bad signature"
        assert _post(demo.url, body, genuine) == 200 and _post(demo.url, body, genuine) == 200
        assert len(demo.received) == 1 and demo.received[0].payload["idempotency_key"] == n.idempotency_key
    finally:
        demo.stop()
