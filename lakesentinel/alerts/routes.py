"""The routing tree, inhibition rules, declared silences and receivers of ``config/routes.yaml``.

Modelled on Alertmanager: the root route matches everything and holds the defaults; child routes
select incidents with matchers and inherit what they do not set; the first matching child wins
unless it says ``continue: true``; an incident no child matches goes to the parent's receiver.
Loading is strict (unknown keys fail) and reports every problem at once, each with file, line and
column; routes must name receivers that exist.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lakesentinel.notify.config import DeliverySettings, ReceiverConfig
from lakesentinel.durations import Duration
from lakesentinel.alerts.matchers import Matcher, MatcherError, Matchers
from lakesentinel.errors import ConfigError
from lakesentinel.issues import FileIssuesError, Issue, at
from lakesentinel.yamlpos import Document, YamlSyntaxError, load_document, read_text

ALL_LABELS = "..."  # group_by: [...] groups by every label, i.e. one group per incident


class RoutesError(FileIssuesError, ConfigError):
    """``routes.yaml`` does not load; ``issues`` holds every problem, each naming where."""

    what = "the routes file"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, populate_by_name=True)


def _check_matchers(value: list[str]) -> list[str]:
    for text in value:
        try:
            Matcher.parse(text)
        except MatcherError as exc:
            raise ValueError(str(exc)) from None
    return value


class RouteSpec(_Strict):
    name: str | None = None
    matchers: list[str] = Field(default_factory=list)
    receiver: str | None = None
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    resolve_timeout: Duration | None = None
    continue_: bool = Field(False, alias="continue")
    routes: list["RouteSpec"] = Field(default_factory=list)

    _matchers = field_validator("matchers")(_check_matchers)


class RootRouteSpec(RouteSpec):
    receiver: str
    group_by: list[str] = Field(default_factory=lambda: ["rule_id", "workspace_id"])
    group_wait: Duration = timedelta(seconds=30)
    group_interval: Duration = timedelta(minutes=5)
    repeat_interval: Duration = timedelta(hours=4)
    resolve_timeout: Duration = timedelta(hours=1)

    @model_validator(mode="after")
    def _root_matches_everything(self) -> "RootRouteSpec":
        if self.matchers:
            raise ValueError("the root route matches every incident; put matchers on child routes")
        if self.continue_:
            raise ValueError("'continue' has no meaning on the root route")
        return self


class InhibitRuleSpec(_Strict):
    name: str | None = None
    source_matchers: list[str]
    target_matchers: list[str]
    equal: list[str] = Field(default_factory=list)

    _matchers = field_validator("source_matchers", "target_matchers")(_check_matchers)


class SilenceSpec(_Strict):
    """A silence declared in the file; it is recorded in ``plt_ops.silences`` like one made from the CLI."""

    matchers: list[str] = Field(min_length=1)
    starts_at: datetime | None = None
    ends_at: datetime
    created_by: str
    comment: str = Field(min_length=1)

    _matchers = field_validator("matchers")(_check_matchers)


class RoutesFile(_Strict):
    route: RootRouteSpec
    receivers: list[ReceiverConfig] = Field(min_length=1)
    inhibit_rules: list[InhibitRuleSpec] = Field(default_factory=list)
    silences: list[SilenceSpec] = Field(default_factory=list)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)


# ---- the resolved tree -------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """One node of the tree with everything inherited resolved."""

    id: str
    matchers: Matchers
    receiver: str
    group_by: tuple[str, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    resolve_timeout: timedelta
    continue_: bool = False
    routes: tuple["Route", ...] = ()

    def match(self, labels: Mapping[str, str | None]) -> list["Route"]:
        """The routes an incident with these labels goes to (Alertmanager's depth-first walk)."""
        if not self.matchers.matches(labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            hit = child.match(labels)
            if hit:
                found.extend(hit)
                if not child.continue_:
                    break
        return found or [self]

    def group_key(self, labels: Mapping[str, str | None]) -> str:
        """The key of the aggregation group these labels fall in under this route."""
        if ALL_LABELS in self.group_by:
            values = {k: labels[k] for k in sorted(labels) if labels[k] is not None}
        else:
            values = {k: labels.get(k) or "" for k in self.group_by}
        return f"{self.id}:{json.dumps(values, sort_keys=True, separators=(',', ':'))}"

    def walk(self):
        yield self
        for child in self.routes:
            yield from child.walk()


@dataclass(frozen=True)
class InhibitRule:
    name: str
    source: Matchers
    target: Matchers
    equal: tuple[str, ...]


@dataclass(frozen=True)
class Routes:
    root: Route
    receivers: dict[str, ReceiverConfig]
    inhibit_rules: tuple[InhibitRule, ...]
    silences: tuple[SilenceSpec, ...]
    delivery: DeliverySettings
    file: str = ""
    digest: str = ""
    routes_by_id: dict[str, Route] = field(default_factory=dict)

    def match(self, labels: Mapping[str, str | None]) -> list[Route]:
        return self.root.match(labels)

    def integrations(self) -> dict[str, Any]:
        """Every integration of every receiver, by ``<receiver>/<type>``."""
        out: dict[str, Any] = {}
        for receiver in self.receivers.values():
            out.update(receiver.integrations())
        return out


def group_hash(group_key: str) -> str:
    """A short, stable id of a group, for places that limit length (Jira labels, Slack metadata)."""
    return hashlib.sha256(group_key.encode()).hexdigest()[:16]


def _resolve(spec: RouteSpec, parent: Route | None, route_id: str) -> Route:
    def pick(name: str):
        own = getattr(spec, name)
        return own if own is not None else getattr(parent, name)

    node = Route(
        id=spec.name or route_id,
        matchers=Matchers.parse(spec.matchers),
        receiver=pick("receiver"),
        group_by=tuple(pick("group_by")),
        group_wait=pick("group_wait"),
        group_interval=pick("group_interval"),
        repeat_interval=pick("repeat_interval"),
        resolve_timeout=pick("resolve_timeout"),
        continue_=spec.continue_,
    )
    children = tuple(_resolve(child, node, f"{route_id}.{i}") for i, child in enumerate(spec.routes))
    return Route(**{**node.__dict__, "routes": children})


def build(spec: RoutesFile, file: str = "", digest: str = "") -> Routes:
    root = _resolve(spec.route, None, "root")
    receivers = {r.name: r for r in spec.receivers}
    rules = tuple(InhibitRule(r.name or f"inhibit.{i}", Matchers.parse(r.source_matchers),
                              Matchers.parse(r.target_matchers), tuple(r.equal))
                  for i, r in enumerate(spec.inhibit_rules))
    return Routes(root, receivers, rules, tuple(spec.silences), spec.delivery, file, digest,
                  {r.id: r for r in root.walk()})


# ---- loading with positions --------------------------------------------------------------------

def _loc(doc: Document, loc: tuple) -> tuple:
    """A pydantic error location as a path in the document, without the union-member names pydantic adds."""
    path: tuple = ()
    value: Any = doc.value
    for part in loc:
        part = "continue" if part == "continue_" else part
        if isinstance(value, dict) and isinstance(part, str):
            path, value = path + (part,), value.get(part)  # a missing key is named, placed at its mapping
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            path, value = path + (part,), value[part]
    return path


def _cross_check(spec: RoutesFile, doc: Document) -> list[Issue]:
    problems: list[Issue] = []
    names = [r.name for r in spec.receivers]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append(at(doc, ("receivers", i, "name"), "duplicate-receiver",
                               f"receiver {name!r} is defined twice", id=name))

    route_ids: set[str] = set()

    def visit(route: RouteSpec, path: tuple):
        if route.receiver is not None and route.receiver not in names:
            problems.append(at(doc, path + ("receiver",), "unknown-receiver",
                               f"no receiver named {route.receiver!r} (receivers: {', '.join(names)})", id=route.name))
        if route.name:
            if route.name in route_ids:
                problems.append(at(doc, path + ("name",), "duplicate-route", f"route name {route.name!r} is used twice",
                                   id=route.name))
            route_ids.add(route.name)
        for i, child in enumerate(route.routes):
            visit(child, path + ("routes", i))

    visit(spec.route, ("route",))
    paths: list[tuple] = []

    def spec_paths(route: RouteSpec, path: tuple):
        paths.append(path)
        for i, child in enumerate(route.routes):
            spec_paths(child, path + ("routes", i))

    spec_paths(spec.route, ("route",))
    root = _resolve(spec.route, None, "root")
    for route, path in zip(root.walk(), paths):
        if route.group_interval <= timedelta(0):
            problems.append(at(doc, path, "intervals", f"route {route.id!r}: group_interval must be positive",
                               id=route.id))
        if route.repeat_interval < route.group_interval:
            problems.append(at(doc, path, "intervals", f"route {route.id!r}: repeat_interval ({route.repeat_interval}) "
                               f"is shorter than group_interval ({route.group_interval})", id=route.id))
    return problems


def parse_routes(text: str, file: str = "<routes>") -> Routes:
    """Parse and check a routes document; raise RoutesError listing every problem."""
    try:
        doc = load_document(text, file)
    except YamlSyntaxError as exc:
        raise RoutesError([Issue("error", "yaml", str(exc), file, exc.position.line,
                                 exc.position.column)]) from None
    if doc is None or not isinstance(doc.value, dict):
        raise RoutesError([Issue("error", "shape", "expected a mapping with 'route' and 'receivers' at the top level",
                                 file, 1, 1)])
    try:
        spec = RoutesFile.model_validate(doc.value)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _loc(doc, tuple(err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(at(doc, loc, "schema", msg, key=err["type"] == "extra_forbidden"))
        raise RoutesError(problems) from None
    problems = _cross_check(spec, doc)
    if problems:
        raise RoutesError(problems)
    return build(spec, file, hashlib.sha256(text.encode()).hexdigest()[:16])


def load_routes(path: str | Path) -> Routes:
    path = Path(path)
    if not path.is_file():
        raise RoutesError([Issue("error", "missing", "no such file (set paths.routes in the environment's configuration)",
                                 str(path))])
    return parse_routes(read_text(path), str(path))

