"""Checks over parsed rules that return issues rather than raise (ids unique across files: the loader).

Validators are found by name in :data:`VALIDATORS` (``rules lint --skip <name>`` turns one off).

>>> sorted(VALIDATORS)
['attack_tags', 'domain_folder', 'test_cases']
"""

from __future__ import annotations

import re
from pathlib import Path

from lakesentinel.alerts.record import DOMAINS
from lakesentinel.rules.issues import Issue
from lakesentinel.rules.model import Rule
from lakesentinel.yamlpos import Document

_ATTACK = re.compile(r"^attack\.(t\d{4}(\.\d{3})?|[a-z][a-z_]*|g\d{4}|s\d{4})$")


class Validator:
    """One check: ``validate`` sees each rule with its document and returns issues (never raises)."""

    name = ""

    def validate(self, rule: Rule, doc: Document) -> list[Issue]:
        return []

    @staticmethod
    def issue(doc: Document, rule: Rule, severity: str, code: str, message: str, path: tuple,
              key: bool = False) -> Issue:
        pos = doc.where(path, key=key)
        return Issue(severity, code, message, doc.file, pos.line, pos.column, rule.id)


class TestCasesValidator(Validator):
    """Every rule carries a case that must fire and one that must stay quiet."""

    name = "test_cases"

    def validate(self, rule, doc):
        fires = any(t.expect for t in rule.tests)
        quiet = any(not t.expect for t in rule.tests)
        missing = [what for what, ok in (("one that fires", fires), ("one that must not fire", quiet)) if not ok]
        if not missing:
            return []
        return [self.issue(doc, rule, "warning", "test-cases", f"add test cases: {' and '.join(missing)}",
                           ("tests",) if rule.tests else ("id",), key=bool(rule.tests))]


class AttackTagsValidator(Validator):
    """ATT&CK tags name a tactic or technique: attack.credential_access, attack.t1110, attack.t1110.001."""

    name = "attack_tags"

    def validate(self, rule, doc):
        return [self.issue(doc, rule, "warning", "attack-tag", f"{tag!r} is not an ATT&CK tactic or technique tag",
                           ("tags", i))
                for i, tag in enumerate(rule.tags) if tag.startswith("attack.") and not _ATTACK.match(tag)]


class DomainFolderValidator(Validator):
    """A rule under rules/<domain>/ has an id starting with <domain>."""

    name = "domain_folder"

    def validate(self, rule, doc):
        folder = next((p for p in Path(doc.file).parts[-4:-1] if p in DOMAINS), None)
        if folder is None or rule.domain == folder:
            return [] if rule.domain in DOMAINS else [
                self.issue(doc, rule, "error", "domain", f"rule id must start with a domain: {', '.join(DOMAINS)}",
                           ("id",))]
        return [self.issue(doc, rule, "error", "domain",
                           f"rule id starts with {rule.domain!r} but the file is in the {folder!r} folder", ("id",))]


VALIDATORS: dict[str, type[Validator]] = {
    v.name: v for v in (TestCasesValidator, AttackTagsValidator, DomainFolderValidator)
}


def make_validators(skip: set[str] | None = None) -> list[Validator]:
    skip = skip or set()
    unknown = skip - set(VALIDATORS)
    if unknown:
        raise ValueError(f"unknown validator(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(VALIDATORS))}")
    return [cls() for name, cls in VALIDATORS.items() if name not in skip]
