"""Loading rule files: every file, every document, every problem, with file, line and column.

The stages for each YAML document: parse with positions, validate against the JSON Schema (the same
one editors use), build the typed model, run the validators, compile against the source. A document
with errors is reported and left out; the others load. :class:`RuleLoader` keeps the result per file
and, on :meth:`RuleLoader.refresh`, re-reads only files whose modification time or size changed (hot
reload); a file that turns bad keeps its rules' last good version running, and says so.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jsonschema
from pydantic import ValidationError

from lakesentinel.alerts.record import DOMAINS
from lakesentinel.logs import get_logger
from lakesentinel.rules.compiler import CompiledRule, compile_rule
from lakesentinel.rules.issues import Issue, RulesFolderError
from lakesentinel.rules.model import DURATION_PATTERN, RULE_ID_PATTERN, Rule, json_schema
from lakesentinel.rules.validators import Validator, make_validators
from lakesentinel.yamlpos import Document, YamlSyntaxError, load_documents, read_text

log = get_logger(__name__)

RULE_SUFFIXES = (".yaml", ".yml")
EVERY_RULE = "*"  # a file that could not be parsed at all: none of its rules loaded
_PATTERN_HINTS = {DURATION_PATTERN: "a duration such as 30s, 15m, 1h or 2d",
                  RULE_ID_PATTERN: "an id like security.repeated_failed_logins (lower case, domain first)",
                  r"^https?://": "an http(s) link"}


@lru_cache(maxsize=1)
def _schema_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema())


def rule_files(paths: list[Path]) -> list[Path]:
    """Rule files under ``paths``: a directory given as the rules root is read per domain folder
    (rules/security, rules/cost...), so that other folders there (detector specs) are left alone."""
    out: list[Path] = []
    for p in paths:
        if p.is_file():
            out.append(p)
            continue
        if not p.is_dir():
            continue
        roots = [p / d for d in DOMAINS if (p / d).is_dir()] or [p]
        for root in roots:
            out.extend(sorted(f for f in root.rglob("*") if f.suffix in RULE_SUFFIXES and f.is_file()
                              and not f.name.startswith((".", "_"))))
    return sorted(dict.fromkeys(out))


@dataclass
class FileResult:
    path: Path
    stamp: tuple[int, int]
    rules: list[CompiledRule] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    failed_ids: set[str] = field(default_factory=set)  # ids of documents that did not load


def load_file(path: Path, validators: list[Validator], display: str | None = None) -> FileResult:
    """Load one file; never raises for bad content (problems become issues)."""
    shown = display or str(path)
    try:
        stat = path.stat()
        result = FileResult(path, (stat.st_mtime_ns, stat.st_size))
        docs = load_documents(read_text(path), shown)
    except (OSError, UnicodeDecodeError) as exc:
        return FileResult(path, (0, 0), issues=[Issue("error", "read", f"cannot read the file: {exc}", shown)],
                          failed_ids={EVERY_RULE})
    except YamlSyntaxError as exc:
        result.issues.append(Issue("error", "yaml", str(exc), shown, exc.position.line, exc.position.column))
        result.failed_ids.add(EVERY_RULE)
        return result
    if not docs:
        result.issues.append(Issue("warning", "empty", "the file holds no rule", shown, 1, 1))
    for doc in docs:
        rule_id = doc.value.get("id") if isinstance(doc.value, dict) and isinstance(doc.value.get("id"), str) else None
        try:
            _load_document(doc, validators, result)
        except RecursionError:
            result.issues.append(Issue("error", "too-deep", "the rule nests too deeply to check", shown,
                                       doc.start.line, doc.start.column, rule_id))
            result.failed_ids.add(rule_id or EVERY_RULE)
        except Exception as exc:  # noqa: BLE001  (one document's bug must not hide the others' results)
            log.exception("rule document could not be checked", extra={"rule_file": shown, "rule_id": rule_id})
            result.issues.append(Issue("error", "internal", f"could not be checked ({type(exc).__name__}: {exc}); "
                                                            "please report this", shown, doc.start.line,
                                       doc.start.column, rule_id))
            result.failed_ids.add(rule_id or EVERY_RULE)
    return result


def _load_document(doc: Document, validators: list[Validator], result: FileResult) -> None:
    rule, issues = build_rule(doc)
    result.issues += issues
    if rule is None:
        if isinstance(doc.value, dict) and isinstance(doc.value.get("id"), str):
            result.failed_ids.add(doc.value["id"])
        return
    for validator in validators:
        result.issues += validator.validate(rule, doc)
    compiled, issues = compile_rule(rule, doc)
    result.issues += issues
    if compiled is None or any(i.severity == "error" and i.id == rule.id for i in result.issues):
        result.failed_ids.add(rule.id)
        return
    result.rules.append(compiled)


def build_rule(doc: Document) -> tuple[Rule | None, list[Issue]]:
    """Schema-check one document and build its model."""
    rule_id = doc.value.get("id") if isinstance(doc.value, dict) and isinstance(doc.value.get("id"), str) else None
    issues: list[Issue] = []

    def add(message: str, path: tuple, key: bool = False, code: str = "schema") -> None:
        pos = doc.where(path, key=key)
        issues.append(Issue("error", code, message, doc.file, pos.line, pos.column, rule_id))

    if not isinstance(doc.value, dict):
        add("a rule document is a mapping (id: ..., title: ..., detection: ...)", ())
        return None, issues
    for err in sorted(_schema_validator().iter_errors(doc.value), key=lambda e: list(map(str, e.absolute_path))):
        message, path, key = _explain(err)
        add(message, path, key)
    if issues:
        return None, issues
    try:
        return Rule.from_dict(doc.value), []
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not isinstance(p, str) or not p.startswith(("function-", "union")))
            add(err["msg"].removeprefix("Value error, "), loc)
        return None, issues


def _explain(err: jsonschema.ValidationError) -> tuple[str, tuple, bool]:
    """A one-line message for a schema error, and where to point."""
    path = tuple(err.absolute_path)
    if err.validator in ("anyOf", "oneOf") and err.context:
        # "a duration or null": the useful complaint is the one from the branch of the right type.
        specific = [e for e in err.context if e.validator != "type"]
        if specific:
            return _explain(jsonschema.exceptions.best_match(specific))
        return f"{_where(path)}: {_value(err.instance)} is not an accepted form here", path, False
    if err.validator == "additionalProperties":
        allowed = list((err.schema.get("properties") or {}).keys())
        extra = [k for k in err.instance if k not in allowed]
        key = extra[0] if extra else None
        close = difflib.get_close_matches(str(key), allowed, n=1) if key is not None else []
        hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(allowed)})"
        return f"unknown key '{key}'{hint}", path + ((key,) if key is not None else ()), True
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"{_where(path)} is missing the required key '{missing}'", path, False
    if err.validator == "enum":
        options = ", ".join(str(o) for o in err.validator_value)
        return f"{_where(path)}: {_value(err.instance)} is not one of: {options}", path, False
    if err.validator == "pattern":
        hint = _PATTERN_HINTS.get(err.validator_value, f"text matching {err.validator_value}")
        return f"{_where(path)}: {_value(err.instance)} is not {hint}", path, False
    if err.validator == "type":
        want = err.validator_value if isinstance(err.validator_value, str) else " or ".join(err.validator_value)
        return f"{_where(path)}: expected {want}, got {_value(err.instance)}", path, False
    return f"{_where(path)}: {err.message}", path, False


def _where(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "the rule"


def _value(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


class RuleLoader:
    """The rule files under some paths, loaded once and then reloaded file by file as they change."""

    def __init__(self, paths: list[Path] | Path, *, skip_validators: set[str] | None = None,
                 root: Path | None = None):
        self.paths = [Path(p) for p in (paths if isinstance(paths, list) else [paths])]
        self.root = root
        self.skip = set(skip_validators or ())
        self.files: dict[Path, FileResult] = {}
        self.rules: dict[str, CompiledRule] = {}
        self.issues: list[Issue] = []
        self.kept: dict[str, str] = {}  # rule id -> file, for rules running their last good version
        self.generation = 0  # bumps whenever the running set changes

    def display(self, path: Path) -> str:
        base = self.root or Path.cwd()
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            return str(path)

    def stamps(self) -> dict[Path, tuple[int, int]]:
        out = {}
        for f in rule_files(self.paths):
            try:
                st = os.stat(f)
            except OSError:
                continue
            out[f] = (st.st_mtime_ns, st.st_size)
        return out

    def refresh(self) -> Changes:
        """Re-read files added, changed or removed since the last call; cheap when nothing changed.

        The first load raises :class:`RulesFolderError` when a path does not exist or holds no rule file;
        later, a folder that vanished (an unmounted volume, a sync in progress) keeps the running rules.
        """
        missing = [p for p in self.paths if not p.exists()]
        if missing and self.generation:
            log.error("rules folder missing; the loaded rules keep running", extra={"paths": [str(p) for p in missing]})
            return Changes()
        if missing:
            raise RulesFolderError(f"{missing[0]}: no such rules file or folder")
        stamps = self.stamps()
        if not stamps and not self.generation:
            raise RulesFolderError(f"{', '.join(map(str, self.paths))}: no rule files (*.yaml) here")
        changes = Changes()
        for path, stamp in stamps.items():
            old = self.files.get(path)
            if old is None or old.stamp != stamp:
                (changes.changed if old else changes.added).append(self.display(path))
                self.files[path] = self._load(path, old)
        for path in [p for p in self.files if p not in stamps]:
            changes.removed.append(self.display(path))
            del self.files[path]
        if changes or not self.generation:
            self._assemble()
        return changes

    def _load(self, path: Path, old: FileResult | None) -> FileResult:
        result = load_file(path, make_validators(self.skip), self.display(path))
        if old is not None:
            loaded = {r.id for r in result.rules}
            # A rule whose new text is broken keeps running as it was, so a typo cannot silence it.
            for rule in old.rules:
                failed = rule.id in result.failed_ids or EVERY_RULE in result.failed_ids
                if failed and rule.id not in loaded:
                    result.rules.append(rule)
                    self.kept[rule.id] = result.issues[0].file if result.issues else str(path)
                elif rule.id in self.kept and rule.id in loaded:
                    self.kept.pop(rule.id, None)
        for r in result.rules:
            if r.id not in result.failed_ids:
                self.kept.pop(r.id, None)
        if result.issues:
            for issue in result.issues:
                if issue.severity == "error":
                    log.warning("rule file problem: %s", issue, extra={"rule_file": issue.file})
        return result

    def _assemble(self) -> None:
        # Ids are unique across files; the first file (in path order) keeps the id.
        rules: dict[str, CompiledRule] = {}
        issues: list[Issue] = []
        for path in sorted(self.files):
            result = self.files[path]
            issues += result.issues
            for rule in result.rules:
                if rule.id in rules:
                    issues.append(Issue("error", "duplicate-id", f"rule id {rule.id!r} is already used in "
                                                                 f"{rules[rule.id].file}", rule.file, rule.line, 1,
                                        rule.id))
                    continue
                rules[rule.id] = rule
        for rule_id, file in self.kept.items():
            if rule_id in rules:
                issues.append(Issue("warning", "kept-last-good", "the file has errors: this rule keeps running its "
                                                                 f"last good version ({rules[rule_id].version})",
                                    file, 0, 0, rule_id))
        self.rules, self.issues = rules, issues
        self.generation += 1


def load_rules(paths: list[Path] | Path, *, skip_validators: set[str] | None = None,
               root: Path | None = None) -> RuleLoader:
    """Load every rule file under ``paths`` once (for lint, test, backtest and explain)."""
    loader = RuleLoader(paths, skip_validators=skip_validators, root=root)
    loader.refresh()
    return loader
