"""Receivers and delivery settings, as written in the routes file: part of the notify seam.

The lifecycle (``alerts/routes.py``) parses them with the routing tree; the delivery worker
(``actions/``) builds receivers from them.

A receiver is a name and one integration of each kind it uses (Slack, Jira, Databricks SQL alert,
webhook, console). Tokens are never written in the file: a ``SecretRef`` names an environment variable
or a Databricks secret, and resolving it registers the value so that no log line can show it.
"""

from __future__ import annotations

import os
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lakesentinel.durations import Duration
from lakesentinel.errors import ConfigError
from lakesentinel.logs import register_secret

INTEGRATION_TYPES = ("slack", "jira", "sql_alert", "webhook", "console")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


SECRET_SCOPE_VARIABLE = "LAKESENTINEL_SECRET_SCOPE"  # the deployment's scope (the bundle's secret_scope)


class DatabricksSecret(_Strict):
    scope: str | None = None  # None: the deployment's scope, LAKESENTINEL_SECRET_SCOPE (--secret-scope)
    key: str

    def resolved_scope(self) -> str:
        scope = self.scope or os.environ.get(SECRET_SCOPE_VARIABLE, "")
        if not scope:
            raise ConfigError(f"Databricks secret '{self.key}' names no scope and {SECRET_SCOPE_VARIABLE} "
                              "is not set (lakesentinel --secret-scope NAME)")
        return scope


class SecretRef(_Strict):
    """Where a secret comes from: ``{env: NAME}`` or ``{secret: {scope: S, key: K}}`` (scope optional)."""

    env: str | None = None
    secret: DatabricksSecret | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_a_literal(cls, value):
        if isinstance(value, str):
            raise ValueError("secrets are never written in the file: use {env: NAME} or "
                             "{secret: {scope: S, key: K}}")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> "SecretRef":
        if (self.env is None) == (self.secret is None):
            raise ValueError("give exactly one of 'env' (an environment variable) or 'secret' (scope and key)")
        return self

    def describe(self) -> str:
        if self.env:
            return f"environment variable {self.env}"
        return f"Databricks secret {self.secret.scope or '$' + SECRET_SCOPE_VARIABLE}/{self.secret.key}"

    def resolve(self) -> str:
        """The secret's value, stripped and checked, registered for redaction before anyone can log it."""
        if self.env is not None:
            raw = os.environ.get(self.env)
            if raw is None:
                raise ConfigError(f"receiver secret: environment variable {self.env} is not set")
            return clean_secret(raw, f"environment variable {self.env}")
        scope = self.secret.resolved_scope()
        return clean_secret(read_databricks_secret(scope, self.secret.key), f"Databricks secret {scope}/{self.secret.key}")


def clean_secret(raw: str, where: str) -> str:
    """``raw`` without the whitespace and line breaks around it (a pasted token's trailing newline), or a
    ConfigError naming ``where`` (never the value) when nothing is left or a control character remains."""
    register_secret(raw)  # before any check, so that not even an error can show it
    value = raw.strip()
    if not value:
        raise ConfigError(f"receiver secret: {where} is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"receiver secret: {where} contains a line break or another control character "
                          "inside it (only the ends are stripped)")
    register_secret(value)
    return value


def read_databricks_secret(scope: str, key: str) -> str:
    """One secret through the workspace's secrets API (the job's own credentials on Databricks)."""
    import base64

    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import NotFound, PermissionDenied

    try:
        reply = WorkspaceClient().secrets.get_secret(scope, key)
    except NotFound:
        raise ConfigError(f"Databricks secret scope '{scope}' has no key '{key}' (or the scope does not exist): "
                          f"databricks secrets put-secret {scope} {key}") from None
    except PermissionDenied:
        raise ConfigError(f"Databricks secret scope '{scope}': no READ permission for key '{key}' "
                          f"(databricks secrets put-acl {scope} <principal> READ)") from None
    return base64.b64decode(reply.value or "").decode()


class SlackConfig(_Strict):
    channel: str
    token: SecretRef
    base_url: str = "https://slack.com/api/"
    send_resolved: bool = True


DEFAULT_PRIORITIES = {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low", "info": "Lowest"}


class JiraConfig(_Strict):
    server: str
    project: str
    issue_type: str = "Task"
    token: SecretRef | None = Field(None, description="personal access token (Jira Server / Data Center)")
    email: str | None = Field(None, description="account e-mail, with api_token (Jira Cloud)")
    api_token: SecretRef | None = None
    priorities: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    labels: list[str] = Field(default_factory=list)
    resolve_transition: str = "Done"
    send_resolved: bool = True

    @model_validator(mode="after")
    def _one_auth(self) -> "JiraConfig":
        if (self.token is None) == (self.api_token is None):
            raise ValueError("give either 'token' (Server / Data Center) or 'email' and 'api_token' (Cloud)")
        if self.api_token is not None and not self.email:
            raise ValueError("'api_token' needs 'email'")
        return self


class SqlAlertConfig(_Strict):
    host: str
    token: SecretRef
    warehouse_id: str
    parent_path: str | None = None
    lookback: Duration = "1h"
    send_resolved: bool = Field(True, description="move the alert and its query to the trash on resolve")


class WebhookConfig(_Strict):
    url: str | SecretRef
    secret: SecretRef | None = Field(None, description="HMAC-SHA256 key for the X-Lakesentinel-Signature header")
    headers: dict[str, str | SecretRef] = Field(
        default_factory=dict, description="extra headers; a credential as a secret reference ({env: NAME} ...)")
    send_resolved: bool = True


class ConsoleConfig(_Strict):
    send_resolved: bool = True


IntegrationConfig = SlackConfig | JiraConfig | SqlAlertConfig | WebhookConfig | ConsoleConfig


class ReceiverConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    slack: SlackConfig | None = None
    jira: JiraConfig | None = None
    sql_alert: SqlAlertConfig | None = None
    webhook: WebhookConfig | None = None
    console: ConsoleConfig | None = None

    @model_validator(mode="after")
    def _has_integration(self) -> "ReceiverConfig":
        if not self.integrations():
            raise ValueError(f"receiver {self.name!r} has no integration (one or more of {', '.join(INTEGRATION_TYPES)})")
        return self

    def integrations(self) -> dict[str, IntegrationConfig]:
        """``{"<receiver>/<type>": config}`` for each integration configured."""
        return {f"{self.name}/{t}": getattr(self, t) for t in INTEGRATION_TYPES if getattr(self, t) is not None}


class DeliverySettings(_Strict):
    """How the worker delivers: attempts before dead-lettering, backoff, timeouts, polling, claims."""

    max_attempts: int = Field(8, ge=1)
    backoff_initial: Duration = "1s"
    backoff_max: Duration = "5m"
    retry_after_max: Duration = Field("2m", description="the longest a receiver's Retry-After is obeyed")
    timeout: Duration = "10s"
    poll_interval: Duration = "100ms"
    lease: Duration = Field("2m", description="how long a worker's claim on a notification holds without renewal")

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> "DeliverySettings":
        # An attempt is a look-up plus a send, each up to the timeout: a lease shorter than that could
        # lapse while the send is in flight and let a second worker send again.
        if self.lease.total_seconds() < 3 * self.timeout.total_seconds():
            raise ValueError(f"delivery.lease ({self.lease.total_seconds():g}s) must be at least three times "
                             f"delivery.timeout ({self.timeout.total_seconds():g}s)")
        return self


class ReceiversFile(Protocol):
    """What the delivery side reads of a parsed routes file (``alerts.routes.Routes`` is one)."""

    delivery: DeliverySettings
    file: str

    def integrations(self) -> dict[str, IntegrationConfig]: ...
