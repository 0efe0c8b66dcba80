"""The bundle in jobs/ as the Databricks CLI sees it for one target: includes merged, the target's
overrides and presets applied, variables and bundle references substituted.

Only what this bundle uses is modelled; any reference left unresolved is an error, so a new kind of
reference shows up here first.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLE_ROOT = REPO_ROOT / "jobs"
SCHEMA = Path("/work/shared/reference/databricks-bundle-schema.json")
DEPLOYER = "someone@example.com"  # the current user in development mode
_REF = re.compile(r"\$\{([a-z_]+(?:\.[A-Za-z0-9_]+)+)\}")


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def _sources() -> tuple[dict, dict[str, Path]]:
    """The root file merged with its includes, and which file defined each job (by its key), app
    (``apps.<key>``), dashboard (``dashboards.<key>``) and artifact (``artifacts.<key>``): relative paths
    resolve against that file."""
    root = yaml.safe_load((BUNDLE_ROOT / "databricks.yml").read_text())
    defined_in: dict[str, Path] = {}
    merged = copy.deepcopy(root)
    for key in root.get("artifacts", {}):
        defined_in[f"artifacts.{key}"] = BUNDLE_ROOT / "databricks.yml"
    for pattern in root.get("include", []):
        for path in sorted(BUNDLE_ROOT.glob(pattern)):
            doc = yaml.safe_load(path.read_text()) or {}
            for key in doc.get("resources", {}).get("jobs", {}):
                defined_in[key] = path
            for key in doc.get("resources", {}).get("apps", {}):
                defined_in[f"apps.{key}"] = path
            for key in doc.get("resources", {}).get("dashboards", {}):
                defined_in[f"dashboards.{key}"] = path
            for key in doc.get("artifacts", {}):
                defined_in[f"artifacts.{key}"] = path
            merged = _merge(merged, doc)
    return merged, defined_in


def targets() -> list[str]:
    return list(yaml.safe_load((BUNDLE_ROOT / "databricks.yml").read_text())["targets"])


def resolve(target: str, overrides: dict[str, str] | None = None) -> tuple[dict, dict[str, Path]]:
    """The configuration for ``target`` with every reference substituted (``overrides``: --var values)."""
    merged, defined_in = _sources()
    spec = merged["targets"][target]
    config = {k: v for k, v in merged.items() if k not in ("targets", "include")}
    for key in ("resources", "workspace", "run_as", "presets", "artifacts", "sync", "permissions", "bundle"):
        if key in spec:
            config[key] = _merge(config.get(key, {}), spec[key])
    values = {name: v.get("default") for name, v in config.get("variables", {}).items()}
    values.update(spec.get("variables", {}))
    values.update(overrides or {})
    missing = [n for n, v in values.items() if v is None]
    if missing:
        raise ValueError(f"target {target}: variables without a value: {missing}")
    user_root = f"/Workspace/Users/{DEPLOYER}/.bundle/{merged['bundle']['name']}/{target}"
    root_path = config.get("workspace", {}).get("root_path", user_root)
    refs = {"bundle.target": target, "bundle.name": merged["bundle"]["name"],
            "workspace.root_path": root_path, "workspace.file_path": f"{root_path}/files",
            "workspace.resource_path": f"{root_path}/resources",
            "workspace.current_user.userName": DEPLOYER, **{f"var.{n}": str(v) for n, v in values.items()}}

    def sub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: sub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [sub(v) for v in value]
        if isinstance(value, str):
            for _ in range(5):  # variables may refer to other references
                new = _REF.sub(lambda m: refs[m.group(1)] if m.group(1) in refs else m.group(0), value)
                if new == value:
                    break
                value = new
            left = _REF.findall(value)
            if left:
                raise ValueError(f"target {target}: unresolved reference(s) {left} in {value!r}")
        return value

    config = sub(config)
    for name, var in config.get("variables", {}).items():
        var["default"] = sub(str(values[name]))
    _apply_presets(config, spec.get("mode"))
    return config, defined_in


def _apply_presets(config: dict, mode: str | None) -> None:
    """What the CLI does on deploy: the target's pause status wherever a job has not set its own
    (development mode pauses by default), and development mode's name prefix."""
    status = config.get("presets", {}).get("trigger_pause_status") or ("PAUSED" if mode == "development" else None)
    for job in config.get("resources", {}).get("jobs", {}).values():
        for key in ("schedule", "continuous", "trigger"):
            if key in job and status and "pause_status" not in job[key]:
                job[key]["pause_status"] = status
        if mode == "development":
            job["name"] = f"[dev {DEPLOYER.split('@')[0]}] {job['name']}"


def wheel_globs(config: dict, defined_in: dict[str, Path]) -> dict[str, list[Path]]:
    """Per job, every wheel path it installs, resolved as the CLI resolves it (against its own file)."""
    out: dict[str, list[Path]] = {}
    for key, job in config["resources"]["jobs"].items():
        base = defined_in[key].parent
        paths = [lib["whl"] for t in job["tasks"] for lib in t.get("libraries", []) if "whl" in lib]
        paths += [d for env in job.get("environments", []) for d in env["spec"].get("dependencies", [])
                  if d.endswith(".whl")]
        out[key] = [(base / p).resolve() for p in paths]
    return out


def artifact_dir(config: dict, defined_in: dict[str, Path], name: str = "lakesentinel") -> Path:
    """Where the artifact's build command runs: its path, relative to the file that defines it."""
    return (defined_in[f"artifacts.{name}"].parent / config["artifacts"][name]["path"]).resolve()


def build_output(config: dict, name: str = "lakesentinel", defined_in: dict[str, Path] | None = None) -> Path:
    """Where the artifact's build command puts the wheel: it runs in the artifact's path."""
    defined_in = defined_in or _sources()[1]
    args = config["artifacts"][name]["build"].split()
    wheel_dir = args[args.index("--wheel-dir") + 1]
    return (artifact_dir(config, defined_in, name) / wheel_dir).resolve()


def app_source(config: dict, defined_in: dict[str, Path], key: str) -> Path:
    """An app's ``source_code_path`` as the CLI resolves it: a local folder, relative to its own file."""
    return (defined_in[f"apps.{key}"].parent / config["resources"]["apps"][key]["source_code_path"]).resolve()


def task_order(job: dict) -> list[dict]:
    """The tasks in an order that respects ``depends_on`` (what the job run does)."""
    tasks = {t["task_key"]: t for t in job["tasks"]}
    done: list[str] = []
    while len(done) < len(tasks):
        ready = [k for k, t in tasks.items() if k not in done
                 and all(d["task_key"] in done for d in t.get("depends_on", []))]
        if not ready:
            raise ValueError(f"depends_on has a cycle among {sorted(set(tasks) - set(done))}")
        done += ready
    return [tasks[k] for k in done]
