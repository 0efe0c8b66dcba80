"""Which ATT&CK techniques the rule packs and detectors cover, from the rules' `attack.t...` tags."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

TECHNIQUE_TAG = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)


class Technique(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^T\d{4}(\.\d{3})?$")
    name: str
    tactics: list[str] = Field(min_length=1)
    databricks: str = Field(description="What the technique looks like on Databricks.")
    gap: str | None = Field(None, description="Why no rule can see it, where none does.")
    detectors: list[str] = Field(default_factory=list, description="Detectors (not tagged) that cover it.")


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tactics: list[str]
    techniques: list[Technique]

    @field_validator("techniques")
    @classmethod
    def _unique(cls, techniques: list[Technique]) -> list[Technique]:
        ids = [t.id for t in techniques]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"technique listed twice: {', '.join(dupes)}")
        return techniques


def load_catalogue() -> Catalogue:
    text = resources.files("lakesentinel.rules").joinpath("attack_catalogue.yaml").read_text(encoding="utf-8")
    catalogue = Catalogue.model_validate(yaml.safe_load(text))
    unknown = {t for technique in catalogue.techniques for t in technique.tactics} - set(catalogue.tactics)
    if unknown:
        raise ValueError(f"attack_catalogue.yaml: tactics not listed under `tactics`: {', '.join(sorted(unknown))}")
    return catalogue


@dataclass
class Coverage:
    technique: Technique
    rules: list[str] = field(default_factory=list)
    detectors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.rules or self.detectors:
            return "covered"
        return "gap" if self.technique.gap else "missing"


@dataclass
class CoverageReport:
    rows: list[Coverage]
    unknown_tags: dict[str, list[str]]  # rule id -> technique tags the catalogue does not list
    unknown_detectors: list[str]  # detectors the catalogue names that are not loaded

    def summary(self) -> dict:
        counts = {s: sum(1 for r in self.rows if r.status == s) for s in ("covered", "gap", "missing")}
        return {"techniques": len(self.rows), **counts, "unknown_tags": self.unknown_tags,
                "unknown_detectors": self.unknown_detectors}


def technique_tags(tags: Iterable[str]) -> list[str]:
    """``attack.t1098.001`` -> ``T1098.001``; other tags are not techniques."""
    return [m.group(1).upper() for t in tags if (m := TECHNIQUE_TAG.match(t))]


def coverage(catalogue: Catalogue, rule_tags: dict[str, list[str]], detector_ids: Iterable[str]) -> CoverageReport:
    """A rule covers a technique it is tagged with and the parent of a sub-technique it is tagged with
    (T1098.001 is a way of doing T1098); a parent tag does not claim its sub-techniques."""
    known = {t.id for t in catalogue.techniques}
    loaded = set(detector_ids)
    rows, unknown = [], {}
    for technique in catalogue.techniques:
        claimed = sorted(rule for rule, tags in rule_tags.items()
                         if any(t == technique.id or t.split(".")[0] == technique.id for t in technique_tags(tags)))
        rows.append(Coverage(technique, claimed, [d for d in technique.detectors if d in loaded]))
    for rule, tags in sorted(rule_tags.items()):
        strays = [t for t in technique_tags(tags) if t not in known and t.split(".")[0] not in known]
        if strays:
            unknown[rule] = strays
    missing_detectors = sorted({d for t in catalogue.techniques for d in t.detectors} - loaded)
    return CoverageReport(rows, unknown, missing_detectors)


def markdown(report: CoverageReport, catalogue: Catalogue) -> str:
    """The coverage table docs/rules.md shows, ordered by tactic as the catalogue lists them."""
    order = {t: i for i, t in enumerate(catalogue.tactics)}
    lines = ["| tactic | technique | on Databricks | covered by |", "| --- | --- | --- | --- |"]
    for row in sorted(report.rows, key=lambda r: (order[r.technique.tactics[0]], r.technique.id)):
        t = row.technique
        by = ", ".join([f"`{r}`" for r in row.rules] + [f"`{d}` (detector)" for d in row.detectors])
        if not by:
            by = f"not covered: {t.gap}" if t.gap else "**not covered**"
        tactics = ", ".join(x.replace("_", " ") for x in t.tactics)
        lines.append(f"| {tactics} | {t.id} {t.name} | {t.databricks} | {by} |")
    return "\n".join(lines) + "\n"
