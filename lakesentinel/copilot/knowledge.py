"""The knowledge agent's index: keyword retrieval (BM25) over the rule packs (title, description,
runbook) and, where the composition root finds them, the project's docs cut at their headings.

No embedding model or vector index yet: retrieval is by shared words, and says so (``method``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from lakesentinel.copilot.tools import Passage

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an and are as at be by for from how i in is it of on or the to what which who why with".split())


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1]


@dataclass(frozen=True)
class Chunk:
    source: str
    title: str
    text: str
    runbook_url: str | None = None


def rule_chunks(rules_dir: Path) -> list[Chunk]:
    """One chunk per rule or detector file: what it detects and its runbook."""
    chunks = []
    for path in sorted(rules_dir.rglob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text())
        except yaml.YAMLError:
            continue  # rules lint reports broken files; the index skips them
        if not isinstance(doc, dict) or "id" not in doc:
            continue
        title = str(doc.get("title") or doc["id"])
        text = " ".join(str(doc.get(k) or "") for k in ("id", "title", "description", "summary")).strip()
        chunks.append(Chunk(f"rule {doc['id']} ({path.relative_to(rules_dir)})", title, text, doc.get("runbook_url")))
    return chunks


def doc_chunks(docs_dir: Path) -> list[Chunk]:
    """Markdown files cut at their ## headings."""
    chunks = []
    for path in sorted(docs_dir.glob("*.md")):
        title, body = path.stem, []
        for line in path.read_text().splitlines() + ["## "]:
            if line.startswith("## ") or line.startswith("# "):
                if body and "".join(body).strip():
                    chunks.append(Chunk(f"docs/{path.name}", title, " ".join(body).strip()))
                title, body = line.lstrip("# ").strip() or path.stem, []
            else:
                body.append(line)
    return chunks


class Knowledge:
    method = "keyword (BM25 over rule descriptions and docs; no embedding model yet)"

    def __init__(self, chunks: list[Chunk]):
        self.chunks = chunks
        self._tf = [Counter(words(c.title + " " + c.text)) for c in chunks]
        self._len = [sum(tf.values()) or 1 for tf in self._tf]
        self._avg = sum(self._len) / max(len(self._len), 1)
        df = Counter(w for tf in self._tf for w in tf)
        n = len(chunks)
        self._idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items()}

    def search(self, query: str, limit: int = 3) -> list[Passage]:
        terms = set(words(query))
        scored = []
        for i, tf in enumerate(self._tf):
            s = sum(self._idf[t] * tf[t] * 2.2 / (tf[t] + 1.2 * (0.25 + 0.75 * self._len[i] / self._avg))
                    for t in terms if t in tf)
            if s > 0:
                scored.append((-s, i))
        return [Passage(source=self.chunks[i].source, title=self.chunks[i].title, text=self.chunks[i].text[:600],
                        runbook_url=self.chunks[i].runbook_url) for _, i in sorted(scored)[:limit]]


def build_knowledge(rules_dir: Path, docs_dir: Path | None) -> Knowledge:
    chunks = rule_chunks(rules_dir)
    if docs_dir is not None and docs_dir.is_dir():
        chunks += doc_chunks(docs_dir)
    return Knowledge(chunks)
