"""Structured JSON logs, with every registered secret masked before a record is written.

Secrets (tokens, webhook keys) are registered where they are read from the environment or from
Databricks secrets; the filter sits on the root handler, so third-party loggers are masked too.

>>> register_secret("xoxb-123456")
>>> redact("token xoxb-123456 refused")
'token *** refused'
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time

_SECRETS: set[str] = set()
_lock = threading.Lock()
_configured = False

MASK = "***"


def register_secret(value: str | None) -> None:
    """Mask ``value`` in all log output from now on (values shorter than 4 characters are ignored)."""
    if value and len(value) >= 4:
        with _lock:
            _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
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
