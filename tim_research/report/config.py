"""The report configuration (``notebooks/reports.toml``): which notebooks run, for whom, how."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import papermill as pm

from tim_research.errors import ConfigError
from tim_research.program.schema import OPTIONAL_TABLES, TABLES

__all__ = ["ReportConfig", "RunSpec", "RunTemplate", "load_config", "plan_runs"]

SCOPES = ("program", "each_site")


@dataclass(frozen=True)
class RunTemplate:
    """One ``[[run]]`` entry: a notebook run once for the program or once per site."""

    name: str
    notebook: Path
    scope: str
    parameters: dict[str, Any] = field(default_factory=dict)
    #: optional tables the notebook needs (``needs = ["matches"]``); a batch on data without
    #: one of them lists the run as not run instead of executing it
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportConfig:
    """The whole configuration, with paths resolved against the config file's folder."""

    source: Path
    notebooks_dir: Path
    cell_timeout: int
    run_timeout: int
    keep_batches: int
    parameters: dict[str, Any]
    runs: tuple[RunTemplate, ...]


@dataclass(frozen=True)
class RunSpec:
    """One concrete run: a notebook with its final parameters and an output folder name."""

    name: str
    template: str
    notebook: Path
    parameters: dict[str, Any]
    site: str | None
    needs: tuple[str, ...] = ()


def _json_literal(value: Any, where: str) -> Any:
    try:
        json.dumps(value)
    except TypeError:
        raise ConfigError(f"{where}: parameters must be JSON values, got {value!r}") from None
    return value


def load_config(path: str | Path) -> ReportConfig:
    """Read and check a report configuration file.

    Every notebook must exist and have a ``parameters`` cell; every parameter the file passes
    must be declared in that cell (papermill itself would only log unknown names).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"report configuration {str(path)!r} does not exist")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML ({exc})") from None
    base = path.parent
    folder = (base / doc.get("notebooks_dir", ".")).resolve()
    shared = {
        k: _json_literal(v, f"{path.name} [parameters] {k}")
        for k, v in doc.get("parameters", {}).items()
    }
    runs = []
    names = set()
    for j, raw in enumerate(doc.get("run", [])):
        where = f"{path.name} run {j + 1}"
        name = raw.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            raise ConfigError(f"{where}: 'name' must be lower-case letters, digits, - or _")
        if name in names:
            raise ConfigError(f"{where}: run name {name!r} is used twice")
        names.add(name)
        scope = raw.get("scope", "program")
        if scope not in SCOPES:
            raise ConfigError(f"{where}: scope must be one of {SCOPES}, got {scope!r}")
        notebook = folder / str(raw.get("notebook", ""))
        if notebook.suffix != ".ipynb" or not notebook.is_file():
            raise ConfigError(
                f"{where}: notebook {str(raw.get('notebook'))!r} not found in {folder}"
            )
        params = {k: _json_literal(v, f"{where} {k}") for k, v in raw.get("parameters", {}).items()}
        declared = pm.inspect_notebook(str(notebook))
        if not declared:
            raise ConfigError(
                f"{where}: {notebook.name} has no cell tagged 'parameters'; papermill would inject "
                "values at the top where the notebook ignores them"
            )
        given = (
            set(shared) | set(params) | {"data_dir"} | ({"site"} if scope == "each_site" else set())
        )
        unknown = sorted(given - set(declared))
        if unknown:
            raise ConfigError(
                f"{where}: {notebook.name} declares no parameter(s) {unknown}; it declares "
                f"{sorted(declared)}"
            )
        needs = raw.get("needs", [])
        if not isinstance(needs, list) or not all(n in TABLES for n in needs):
            raise ConfigError(
                f"{where}: needs must be a list of table names from {list(TABLES)}, e.g. "
                '["matches"]'
            )
        # youth and surveys are in every program: only the optional tables can be missing
        needs = tuple(n for n in dict.fromkeys(needs) if n in OPTIONAL_TABLES)
        runs.append(RunTemplate(name, notebook, scope, params, needs))
    if not runs:
        raise ConfigError(f"{path.name}: no [[run]] entries")
    keep = doc.get("keep_batches", 10)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        # 0 would delete the batch just published and leave `latest` pointing at nothing
        raise ConfigError(
            f"{path.name}: keep_batches must be a whole number of at least 1 (the batch just "
            "published is always kept)"
        )
    return ReportConfig(
        source=path.resolve(),
        notebooks_dir=folder,
        cell_timeout=int(doc.get("cell_timeout", 120)),
        run_timeout=int(doc.get("run_timeout", 600)),
        keep_batches=keep,
        parameters=shared,
        runs=tuple(runs),
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def plan_runs(
    config: ReportConfig, *, data_dir: Path, sites: list[str], only: tuple[str, ...] = ()
) -> list[RunSpec]:
    """The concrete runs of a batch: program runs once, site runs once per site in the data.

    ``only`` names ``[[run]]`` entries (every site of a site run) or single runs as the index
    lists them (``site-report-north``: one site).
    """
    specs = []
    for t in config.runs:
        base = {**config.parameters, **t.parameters, "data_dir": str(data_dir)}
        if t.scope == "program":
            specs.append(RunSpec(t.name, t.name, t.notebook, base, None, t.needs))
        else:
            for site in sites:
                specs.append(
                    RunSpec(
                        f"{t.name}-{_slug(site)}",
                        t.name,
                        t.notebook,
                        {**base, "site": site},
                        site,
                        t.needs,
                    )
                )
    if not only:
        return specs
    known = {t.name for t in config.runs} | {s.name for s in specs}
    stray = sorted(set(only) - known)
    if stray:
        raise ConfigError(
            f"--only names unknown runs {stray}; runs are {sorted(t.name for t in config.runs)} "
            "or one site's run as the index lists it (e.g. site-report-north)"
        )
    return [s for s in specs if s.template in only or s.name in only]
