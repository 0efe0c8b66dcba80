"""Structured JSON logs, with every registered secret masked before a record is written.

Secrets (tokens, webhook keys) are registered where they are read from the environment or from
Databricks secrets; the filter sits on the root handler, so third-party loggers are masked too.

A secret is masked in every form a client library or an error message may give it: as is, repr'd or
JSON-escaped, URL-encoded, and base64-encoded (padded or not, standard or URL-safe alphabet); a
credential sent as HTTP basic auth is registered as ``user:secret`` too, so its base64 header value is
masked.

>>> register_secret("xoxb-123456")
>>> redact("token xoxb-123456 refused")
'token *** refused'
>>> register_secret("s3cr/t+k=y")
>>> redact("token=s3cr%2Ft%2Bk%3Dy, b64 czNjci90K2s9eQ==")
'token=***, b64 ***'
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
import time
from urllib.parse import quote, quote_plus

_SECRETS: set[str] = set()
_lock = threading.Lock()
_configured = False

MASK = "***"


def encodings(value: str) -> set[str]:
    """The forms ``value`` takes once a library or an error message has been at it."""
    forms = {value, repr(value)[1:-1], json.dumps(value)[1:-1], quote(value, safe=""), quote(value),
             quote_plus(value)}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        coded = encode(value.encode()).decode()
        forms |= {coded, coded.rstrip("=")}
    return {f for f in forms if len(f) >= 4}


def register_secret(value: str | None) -> None:
    """Mask ``value``, in each of its :func:`encodings`, in all log output and every redacted text from
    now on (values shorter than 4 characters are ignored)."""
    if value and len(value) >= 4:
        with _lock:
            _SECRETS.update(encodings(value))


def register_basic_auth(user: str, secret: str) -> None:
    """Mask a credential sent as HTTP basic auth: the header carries base64 of ``user:secret``."""
    register_secret(secret)
    register_secret(f"{user}:{secret}")


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), ()
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                record.__dict__[key] = redact(value)
        return True


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_text:
            payload["exception"] = record.exc_text
        return redact(json.dumps(payload, default=str))


def configure(level: str = "INFO", stream=None, json_output: bool = True) -> None:
    """Install one handler on the root logger (idempotent)."""
    global _configured
    root = logging.getLogger()
    with _lock:
        if _configured:
            root.setLevel(level)
            return
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter() if json_output else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
        root.setLevel(level)
        for noisy in ("py4j", "urllib3", "matplotlib"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        _configured = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
