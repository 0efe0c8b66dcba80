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

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lakesentinel.actions.config import DeliverySettings, ReceiverConfig
from lakesentinel.alerts.durations import Duration
from lakesentinel.alerts.matchers import Matcher, MatcherError, Matchers
from lakesentinel.errors import ConfigError

ALL_LABELS = "..."  # group_by: [...] groups by every label, i.e. one group per incident


class RoutesError(ConfigError):
    """``routes.yaml`` does not load; ``problems`` holds one line per problem, each naming where."""

    def __init__(self, file: str, problems: list[str]):
        self.file = file
        self.problems = problems
        super().__init__(f"{file}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))


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

def _node_at(node: yaml.Node | None, loc: tuple, *, key: bool = False) -> yaml.Node | None:
    """The YAML node at a pydantic error location (its key with ``key``), or the deepest that exists."""
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            name = "continue" if part == "continue_" else part
            pair = next(((k, v) for k, v in node.value if k.value == name), None)
            if pair is None:
                return node
            node = pair[0] if key and i == len(loc) - 1 else pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        elif isinstance(node, yaml.SequenceNode):
            continue  # union-member names pydantic adds
        else:
            return node
    return node


def _where(file: str, node: yaml.Node | None) -> str:
    if node is None:
        return file
    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + ("continue" if part == "continue_" else str(part))
    return out or "(top level)"


def _cross_check(spec: RoutesFile, tree: yaml.Node, file: str) -> list[str]:
    problems: list[str] = []
    names = [r.name for r in spec.receivers]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append(f"{_where(file, _node_at(tree, ('receivers', i, 'name')))}: key 'receivers[{i}].name': "
                            f"receiver {name!r} is defined twice")

    route_ids: set[str] = set()

    def visit(route: RouteSpec, path: tuple):
        if route.receiver is not None and route.receiver not in names:
            problems.append(f"{_where(file, _node_at(tree, path + ('receiver',)))}: key '{_dotted(path + ('receiver',))}': "
                            f"no receiver named {route.receiver!r} (receivers: {', '.join(names)})")
        if route.name:
            if route.name in route_ids:
                problems.append(f"{_where(file, _node_at(tree, path + ('name',)))}: key '{_dotted(path + ('name',))}': "
                                f"route name {route.name!r} is used twice")
            route_ids.add(route.name)
        for i, child in enumerate(route.routes):
            visit(child, path + ("routes", i))

    visit(spec.route, ("route",))
    root = _resolve(spec.route, None, "root")
    for route in root.walk():
        if route.group_interval <= timedelta(0):
            problems.append(f"{file}: route {route.id!r}: group_interval must be positive")
        if route.repeat_interval < route.group_interval:
            problems.append(f"{file}: route {route.id!r}: repeat_interval ({route.repeat_interval}) is shorter than "
                            f"group_interval ({route.group_interval})")
    return problems


def parse_routes(text: str, file: str = "<routes>") -> Routes:
    """Parse and check a routes document; raise RoutesError listing every problem."""
    try:
        tree = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise RoutesError(file, [f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(raw, dict):
        raise RoutesError(file, [f"{file}: expected a mapping with 'route' and 'receivers' at the top level"])
    try:
        spec = RoutesFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            node = _node_at(tree, loc, key=err["type"] == "extra_forbidden")
            problems.append(f"{_where(file, node)}: key '{_dotted(loc)}': {msg}")
        raise RoutesError(file, problems) from None
    problems = _cross_check(spec, tree, file)
    if problems:
        raise RoutesError(file, problems)
    return build(spec, file, hashlib.sha256(text.encode()).hexdigest()[:16])


def load_routes(path: str | Path) -> Routes:
    path = Path(path)
    if not path.is_file():
        raise RoutesError(str(path), [f"{path}: no such file (set paths.routes in the environment's configuration)"])
    return parse_routes(path.read_text(), str(path))

