"""Instrument definitions: one TOML file per instrument, read into frozen dataclasses.

The folder holding this module is the built-in catalogue. Users add their own instrument by
writing a TOML file in the same format into a folder of their choice and passing that folder
in ``paths=`` (or the file itself to :func:`load_instrument`). See ``README.md`` for the format.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from tim_research.errors import InstrumentError

__all__ = [
    "Bin",
    "CutoffSet",
    "Instrument",
    "Item",
    "OptionChoice",
    "ResponseSet",
    "Scale",
    "builtin_folder",
    "column_maps",
    "list_instruments",
    "load_column_map",
    "load_instrument",
]

METHODS = ("sum", "mean", "any", "all")
# scale settings an option choice may change (e.g. a complete-case rule)
SCALE_OPTION_KEYS = frozenset({"complete"})
MISSING = math.nan


def builtin_folder() -> Path:
    """Folder of the instrument files shipped with tim_research."""
    return Path(__file__).resolve().parent


@dataclass(frozen=True)
class ResponseSet:
    """Allowed codes of an item, their labels, which codes mean "not answered" and the recode."""

    id: str
    codes: tuple[int, ...]
    labels: tuple[str, ...]
    missing_codes: tuple[int, ...] = ()
    recode: Mapping[int, float] = field(default_factory=dict)

    def value_of(self, code: int) -> float:
        """Scoring value of a code: the recode if any, NaN for a missing code, else the code."""
        if code in self.missing_codes:
            return MISSING
        return float(self.recode.get(code, code))


@dataclass(frozen=True)
class Item:
    """One questionnaire item: id, short label (never the copyrighted wording) and keying."""

    id: str
    label: str
    response_set: str
    reverse: bool = False
    recode: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Bin:
    """One category of a cut-off set, bounded on the score scale."""

    label: str
    lower: float = -math.inf
    upper: float = math.inf
    lower_inclusive: bool = True
    upper_inclusive: bool = True

    def describe(self) -> str:
        """Human-readable interval, e.g. ``[3, 4.3]`` or ``> 4.3``."""
        if math.isinf(self.lower):
            return f"{'<=' if self.upper_inclusive else '<'} {self.upper:g}"
        if math.isinf(self.upper):
            return f"{'>=' if self.lower_inclusive else '>'} {self.lower:g}"
        left = "[" if self.lower_inclusive else "("
        right = "]" if self.upper_inclusive else ")"
        return f"{left}{self.lower:g}, {self.upper:g}{right}"


@dataclass(frozen=True)
class CutoffSet:
    """A named set of contiguous bins with its published source."""

    id: str
    source: str
    bins: tuple[Bin, ...]
    default: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        """Category labels in order."""
        return tuple(b.label for b in self.bins)


@dataclass(frozen=True)
class Scale:
    """A scale or subscale: which items (or other scales), how combined, the missing-item rule.

    ``complete = true`` scores the scale only when every item it is built from (through its
    sub-scales too) is answered: a complete-case rule, stricter than ``min_answered``.
    """

    id: str
    label: str
    method: str
    items: tuple[str, ...] = ()
    scales: tuple[str, ...] = ()
    min_answered: int = 0
    prorate: bool = False
    missing_rule_source: str = ""
    cutoffs: tuple[CutoffSet, ...] = ()
    thresholds: tuple[float, ...] = ()
    complete: bool = False

    @property
    def parts(self) -> tuple[str, ...]:
        """Item ids or scale ids this scale is built from."""
        return self.items or self.scales

    def cutoff_set(self, cutoff_id: str | None) -> CutoffSet | None:
        """The cut-off set with this id, the default set for ``None``, or ``None`` if none."""
        if cutoff_id is None:
            return next((c for c in self.cutoffs if c.default), None)
        for c in self.cutoffs:
            if c.id == cutoff_id:
                return c
        known = ", ".join(repr(c.id) for c in self.cutoffs) or "none"
        raise InstrumentError(
            f"scale {self.id!r} has no cut-off set {cutoff_id!r}; known cut-off sets: {known}"
        )


@dataclass(frozen=True)
class OptionChoice:
    """What one choice of a scoring option changes: item recodes, response sets, scale rules."""

    recode: Mapping[str, Mapping[int, float]] = field(default_factory=dict)
    response_set: Mapping[str, str] = field(default_factory=dict)
    scales: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """A documented scoring choice left open by the instrument's sources."""

    id: str
    description: str
    default: str
    source: str
    choices: Mapping[str, OptionChoice]


@dataclass(frozen=True)
class Instrument:
    """A questionnaire declared as data, as read from its TOML file.

    Examples
    --------
    >>> from tim_research import load_instrument
    >>> brs = load_instrument("brs")
    >>> brs.item_ids
    ('brs_1', 'brs_2', 'brs_3', 'brs_4', 'brs_5', 'brs_6')
    >>> [i.id for i in brs.items if i.reverse]
    ['brs_2', 'brs_4', 'brs_6']
    """

    id: str
    name: str
    version: str
    citation: str
    licence: str
    item_text_shipped: bool
    response_sets: Mapping[str, ResponseSet]
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    options: Mapping[str, Option] = field(default_factory=dict)
    caveat: str = ""
    notes: str = ""
    source_file: str = ""

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Item ids in questionnaire order."""
        return tuple(i.id for i in self.items)

    def scale_column(self, scale: Scale | str) -> str:
        """Output column of a scale: ``<id>_score`` for the main score, else ``<id>_<scale>``."""
        sid = scale if isinstance(scale, str) else scale.id
        return f"{self.id}_{sid}"

    def with_options(self, choices: Mapping[str, str] | None = None) -> Instrument:
        """Return the instrument with option choices applied (defaults for the ones not given)."""
        choices = dict(choices or {})
        unknown = sorted(set(choices) - set(self.options))
        if unknown:
            known = ", ".join(repr(o) for o in self.options) or "none"
            raise InstrumentError(
                f"{self.id}: unknown option(s) {', '.join(map(repr, unknown))}; "
                f"options of this instrument: {known}"
            )
        items = {i.id: i for i in self.items}
        scales = {s.id: s for s in self.scales}
        for opt in self.options.values():
            picked = choices.get(opt.id, opt.default)
            if picked not in opt.choices:
                raise InstrumentError(
                    f"{self.id}: option {opt.id!r} has no choice {picked!r}; "
                    f"choose one of {', '.join(map(repr, opt.choices))}"
                )
            change = opt.choices[picked]
            for item_id, recode in change.recode.items():
                old = items[item_id]
                items[item_id] = Item(old.id, old.label, old.response_set, old.reverse, recode)
            for item_id, set_id in change.response_set.items():
                targets = list(items) if item_id == "*" else [item_id]
                for t in targets:
                    old = items[t]
                    items[t] = Item(old.id, old.label, set_id, old.reverse, old.recode)
            for scale_id, changes in change.scales.items():
                for t in list(scales) if scale_id == "*" else [scale_id]:
                    scales[t] = replace(scales[t], **changes)
        return Instrument(
            id=self.id,
            name=self.name,
            version=self.version,
            citation=self.citation,
            licence=self.licence,
            item_text_shipped=self.item_text_shipped,
            response_sets=self.response_sets,
            items=tuple(items[i.id] for i in self.items),
            scales=tuple(scales[s.id] for s in self.scales),
            options=MappingProxyType({}),
            caveat=self.caveat,
            notes=self.notes,
            source_file=self.source_file,
        )

    def item_values(self, item: Item) -> dict[int, float]:
        """Map of every valid code of an item to its scoring value, before reverse keying."""
        rs = self.response_sets[item.response_set]
        out = {c: rs.value_of(c) for c in rs.codes}
        for code, value in item.recode.items():
            if code not in out:
                raise InstrumentError(
                    f"{self.id}: item {item.id} recodes {code}, which is not a code of "
                    f"response set {rs.id!r} ({list(rs.codes)})"
                )
            out[code] = value
        return out

    def value_range(self, item: Item) -> tuple[float, float]:
        """Smallest and largest scoring value of an item."""
        vals = [v for v in self.item_values(item).values() if not math.isnan(v)]
        return min(vals), max(vals)

    def scale_range(self, scale: Scale) -> tuple[float, float]:
        """Smallest and largest possible score of a scale."""
        if scale.method in ("any", "all"):
            return 0.0, 1.0
        if scale.thresholds:  # parts count as 0/1
            k = len(scale.parts)
            return (0.0, 1.0) if scale.method == "mean" else (0.0, float(k))
        if scale.items:
            ranges = [self.value_range(self._item(i)) for i in scale.items]
        else:
            ranges = [self.scale_range(self._scale(s)) for s in scale.scales]
        lo, hi = sum(r[0] for r in ranges), sum(r[1] for r in ranges)
        if scale.method == "mean":
            return lo / len(ranges), hi / len(ranges)
        return lo, hi

    def _item(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise InstrumentError(f"{self.id}: no item {item_id!r}")

    def _scale(self, scale_id: str) -> Scale:
        for s in self.scales:
            if s.id == scale_id:
                return s
        raise InstrumentError(f"{self.id}: no scale {scale_id!r}")

    def to_frame(self) -> pd.DataFrame:
        """One row per item: label, response set, reverse keying and the scales using it."""
        rows = []
        for item in self.items:
            rs = self.response_sets[item.response_set]
            rows.append(
                {
                    "item": item.id,
                    "label": item.label,
                    "codes": ", ".join(f"{c}={lab}" for c, lab in zip(rs.codes, rs.labels)),
                    "reverse": item.reverse,
                    "scales": ", ".join(s.id for s in self.scales if item.id in s.items),
                }
            )
        return pd.DataFrame(rows).set_index("item")

    def scales_frame(self) -> pd.DataFrame:
        """One row per scale: output column, method, items, missing rule, range, cut-offs."""
        rows = []
        for s in self.scales:
            lo, hi = self.scale_range(s)
            cut = s.cutoff_set(None)
            rows.append(
                {
                    "column": self.scale_column(s),
                    "method": s.method,
                    "parts": ", ".join(s.parts),
                    "min_answered": s.min_answered,
                    "prorate": s.prorate,
                    "range": f"{lo:g}-{hi:g}",
                    "categories": "; ".join(f"{b.label} {b.describe()}" for b in cut.bins)
                    if cut
                    else "",
                }
            )
        return pd.DataFrame(rows).set_index("column")

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{self.name}</b> (<code>{self.id}</code>, version {self.version})<br>"
            f"{self.citation}<br><i>Licence:</i> {self.licence}</p>"
        )
        caveat = f"<p><b>Note:</b> {self.caveat}</p>" if self.caveat else ""
        return head + caveat + self.scales_frame().to_html()


# --------------------------------------------------------------------------- parsing


def _need(table: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in table:
        raise InstrumentError(f"{where}: missing required key {key!r}")
    value = table[key]
    if not isinstance(value, kind):
        raise InstrumentError(f"{where}: {key!r} must be {kind}, got {type(value).__name__}")
    return value


def _recode_map(raw: Mapping[str, Any], where: str) -> dict[int, float]:
    out: dict[int, float] = {}
    for k, v in raw.items():
        try:
            code = int(k)
        except ValueError:
            raise InstrumentError(f"{where}: recode key {k!r} is not an integer code") from None
        if v == "missing":
            out[code] = MISSING
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out[code] = float(v)
        else:
            raise InstrumentError(f"{where}: recode of {k} must be a number or 'missing'")
    return out


def _flag(table: Mapping[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise InstrumentError(f"{where}: {key!r} must be true or false")
    return value


def _parse_bins(raw: Sequence[Mapping[str, Any]], where: str) -> tuple[Bin, ...]:
    bins = []
    for j, b in enumerate(raw):
        bins.append(
            Bin(
                label=str(_need(b, "label", f"{where} bin {j}", str)),
                lower=float(b.get("lower", -math.inf)),
                upper=float(b.get("upper", math.inf)),
                lower_inclusive=bool(b.get("lower_inclusive", True)),
                upper_inclusive=bool(b.get("upper_inclusive", True)),
            )
        )
    # Bins must tile the real line: no gap and no overlap, so every score gets one category.
    if not bins or not math.isinf(bins[0].lower) or not math.isinf(bins[-1].upper):
        raise InstrumentError(f"{where}: first bin needs no lower bound and last no upper bound")
    for a, b in zip(bins, bins[1:]):
        if a.upper != b.lower or a.upper_inclusive == b.lower_inclusive:
            raise InstrumentError(
                f"{where}: bins {a.label!r} and {b.label!r} must meet at one bound that exactly "
                f"one of them includes (got {a.describe()} and {b.describe()})"
            )
    return tuple(bins)


def _parse(doc: Mapping[str, Any], source: str) -> Instrument:
    where = source
    iid = _need(doc, "id", where, str)
    where = f"instrument {iid!r} ({source})"
    sets: dict[str, ResponseSet] = {}
    for sid, raw in _need(doc, "response_sets", where, dict).items():
        w = f"{where} response set {sid!r}"
        codes = tuple(int(c) for c in _need(raw, "codes", w, list))
        labels = tuple(str(x) for x in _need(raw, "labels", w, list))
        if len(codes) != len(labels) or len(set(codes)) != len(codes):
            raise InstrumentError(f"{w}: codes and labels must be unique and of equal length")
        missing = tuple(int(c) for c in raw.get("missing_codes", []))
        if not set(missing) <= set(codes):
            raise InstrumentError(f"{w}: missing_codes must be among the codes")
        sets[sid] = ResponseSet(sid, codes, labels, missing, _recode_map(raw.get("recode", {}), w))

    default_set = doc.get("response_set")
    reverse = set(doc.get("reverse_keyed", []))
    items: list[Item] = []
    for j, raw in enumerate(_need(doc, "items", where, list)):
        w = f"{where} item {j + 1}"
        set_id = raw.get("response_set", default_set)
        if set_id not in sets:
            raise InstrumentError(f"{w}: unknown response set {set_id!r}")
        item_id = _need(raw, "id", w, str)
        items.append(
            Item(
                id=item_id,
                label=str(raw.get("label", "")),
                response_set=set_id,
                reverse=item_id in reverse,
                recode=_recode_map(raw.get("recode", {}), w),
            )
        )
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise InstrumentError(f"{where}: duplicated item ids")
    if not reverse <= set(ids):
        raise InstrumentError(
            f"{where}: reverse_keyed names unknown items {sorted(reverse - set(ids))}"
        )

    scales: list[Scale] = []
    for raw in _need(doc, "scales", where, list):
        sid = _need(raw, "id", where + " scale", str)
        w = f"{where} scale {sid!r}"
        method = _need(raw, "method", w, str)
        if method not in METHODS:
            raise InstrumentError(f"{w}: method must be one of {METHODS}, got {method!r}")
        s_items = tuple(raw.get("items", ()))
        s_scales = tuple(raw.get("scales", ()))
        if bool(s_items) == bool(s_scales):
            raise InstrumentError(f"{w}: give exactly one of 'items' or 'scales'")
        unknown = [x for x in s_items if x not in ids] + [
            x for x in s_scales if x not in {s.id for s in scales}
        ]
        if unknown:
            raise InstrumentError(f"{w}: unknown items or earlier scales {unknown}")
        k = len(s_items or s_scales)
        min_answered = int(raw.get("min_answered", k))
        prorate = bool(raw.get("prorate", False))
        if not 1 <= min_answered <= k:
            raise InstrumentError(f"{w}: min_answered must be between 1 and {k}")
        if method == "sum" and min_answered < k and not prorate:
            # A sum over fewer items than the scale has would be a silently low score.
            raise InstrumentError(f"{w}: a sum with min_answered < {k} needs prorate = true")
        raw_t = raw.get("threshold", [])
        thresholds = tuple(float(t) for t in (raw_t if isinstance(raw_t, list) else [raw_t]))
        if thresholds and len(thresholds) == 1:
            thresholds = thresholds * k
        if thresholds and len(thresholds) != k:
            raise InstrumentError(f"{w}: threshold needs one number or one per part ({k})")
        if method == "all" and not thresholds:
            raise InstrumentError(f"{w}: method 'all' needs a threshold per part")
        cutoffs = tuple(
            CutoffSet(
                id=_need(c, "id", w + " cutoffs", str),
                source=_need(c, "source", w + " cutoffs", str),
                default=bool(c.get("default", False)),
                bins=_parse_bins(_need(c, "bins", w + " cutoffs", list), w),
            )
            for c in raw.get("cutoffs", [])
        )
        if sum(c.default for c in cutoffs) > 1:
            raise InstrumentError(f"{w}: at most one default cut-off set")
        scales.append(
            Scale(
                id=sid,
                label=str(raw.get("label", sid)),
                method=method,
                items=s_items,
                scales=s_scales,
                min_answered=min_answered,
                prorate=prorate,
                missing_rule_source=str(raw.get("missing_rule_source", "")),
                cutoffs=cutoffs,
                thresholds=thresholds,
                complete=_flag(raw, "complete", w),
            )
        )

    options: dict[str, Option] = {}
    for oid, raw in doc.get("options", {}).items():
        w = f"{where} option {oid!r}"
        choices = {}
        for cid, c in _need(raw, "choices", w, dict).items():
            rec = {}
            for item_id, m in c.get("recode", {}).items():
                if item_id not in ids:
                    raise InstrumentError(f"{w} choice {cid!r}: unknown item {item_id!r}")
                rec[item_id] = _recode_map(m, f"{w} choice {cid!r}")
            rsets = dict(c.get("response_set", {}))
            for item_id, set_id in rsets.items():
                if (item_id != "*" and item_id not in ids) or set_id not in sets:
                    raise InstrumentError(
                        f"{w} choice {cid!r}: unknown item or response set {item_id}={set_id}"
                    )
            scale_changes = {}
            for scale_id, changes in c.get("scales", {}).items():
                if scale_id != "*" and scale_id not in {s.id for s in scales}:
                    raise InstrumentError(f"{w} choice {cid!r}: unknown scale {scale_id!r}")
                if not isinstance(changes, dict) or set(changes) - SCALE_OPTION_KEYS:
                    raise InstrumentError(
                        f"{w} choice {cid!r}: a choice may set only "
                        f"{sorted(SCALE_OPTION_KEYS)} of scale {scale_id!r}"
                    )
                scale_changes[scale_id] = {
                    k: _flag(changes, k, f"{w} choice {cid!r}") for k in changes
                }
            choices[cid] = OptionChoice(rec, rsets, scale_changes)
        default = _need(raw, "default", w, str)
        if default not in choices:
            raise InstrumentError(f"{w}: default {default!r} is not one of its choices")
        options[oid] = Option(
            oid, str(raw.get("description", "")), default, str(raw.get("source", "")), choices
        )

    inst = Instrument(
        id=iid,
        name=_need(doc, "name", where, str),
        version=str(_need(doc, "version", where, (str, int))),
        citation=_need(doc, "citation", where, str),
        licence=_need(doc, "licence", where, str),
        item_text_shipped=bool(_need(doc, "item_text_shipped", where, bool)),
        response_sets=MappingProxyType(sets),
        items=tuple(items),
        scales=tuple(scales),
        options=MappingProxyType(options),
        caveat=str(doc.get("caveat", "")).strip(),
        notes=str(doc.get("notes", "")).strip(),
        source_file=source,
    )
    for item in inst.items:  # check recodes against codes once, at load time
        inst.item_values(item)
    for opt in options.values():
        for cid in opt.choices:
            applied = inst.with_options({opt.id: cid})
            for item in applied.items:
                applied.item_values(item)
    return inst


def _read_file(path: Path) -> Instrument:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError(f"{path.name}: not valid TOML ({exc})") from None
    inst = _parse(doc, path.name)
    if inst.id != path.stem:
        raise InstrumentError(f"{path.name}: the file name must be the instrument id {inst.id!r}")
    return inst


def _folders(paths: Iterable[str | Path]) -> list[Path]:
    folders = [Path(p) for p in paths]
    for f in folders:
        if not f.is_dir():
            raise InstrumentError(f"instrument folder {str(f)!r} does not exist")
    return [*folders, builtin_folder()]


def load_instrument(instrument: str | Path, *, paths: Iterable[str | Path] = ()) -> Instrument:
    """Load an instrument by id (from ``paths`` first, then the built-in catalogue) or file path.

    Parameters
    ----------
    instrument
        An instrument id such as ``"brs"``, or the path of a ``.toml`` file.
    paths
        Extra folders holding user instrument files; searched before the built-in ones.

    Examples
    --------
    >>> load_instrument("proqol5").scale_column("burnout")
    'proqol5_burnout'
    """
    as_path = Path(instrument)
    if as_path.suffix == ".toml":
        if not as_path.is_file():
            raise InstrumentError(f"instrument file {str(as_path)!r} does not exist")
        return _read_file(as_path)
    for folder in _folders(paths):
        candidate = folder / f"{instrument}.toml"
        if candidate.is_file():
            return _read_file(candidate)
    # ids are case-insensitive: "BRS" and "PCL5" as people type them in scripts and shells
    ids = {
        path.stem.casefold(): path
        for f in reversed(list(_folders(paths)))
        for path in sorted(f.glob("*.toml"))
    }
    wanted = str(instrument).casefold()
    if wanted in ids:
        return _read_file(ids[wanted])
    close = difflib.get_close_matches(wanted, sorted(ids), n=1, cutoff=0.6)
    hint = f" Did you mean {ids[close[0]].stem!r}?" if close else ""
    known = ", ".join(sorted(path.stem for path in ids.values()))
    raise InstrumentError(
        f"unknown instrument {str(instrument)!r}.{hint} Known instruments: {known}. To add one, "
        "write <id>.toml in a folder and pass paths=[folder]."
    )


def list_instruments(*, paths: Iterable[str | Path] = ()) -> pd.DataFrame:
    """The catalogue: one row per instrument file found (user folders first, then built-ins).

    Examples
    --------
    >>> cat = list_instruments()
    >>> {"ace10", "brs", "proqol5"} <= set(cat["id"])
    True
    """
    rows, seen = [], set()
    for folder in _folders(paths):
        for path in sorted(folder.glob("*.toml")):
            if path.stem in seen:
                continue
            inst = _read_file(path)
            seen.add(inst.id)
            rows.append(
                {
                    "id": inst.id,
                    "name": inst.name,
                    "items": len(inst.items),
                    "scales": ", ".join(inst.scale_column(s) for s in inst.scales),
                    "licence": inst.licence,
                    "source": "built-in" if folder == builtin_folder() else str(folder),
                }
            )
    return pd.DataFrame(rows, columns=["id", "name", "items", "scales", "licence", "source"])


def column_maps() -> list[str]:
    """Names of the column maps that ship with the package (see :func:`load_column_map`).

    Examples
    --------
    >>> "brfss" in column_maps()
    True
    """
    return sorted(p.stem for p in (builtin_folder() / "column_maps").glob("*.toml"))


def load_column_map(name: str) -> dict[str, str]:
    """A shipped map of item ids to the column names of a known data source.

    Parameters
    ----------
    name
        A map name from :func:`column_maps`, e.g. ``"brfss"`` (BRFSS ACE module variable names,
        2019-2023 public-use files), case-insensitive.

    Examples
    --------
    >>> load_column_map("brfss")["brfss_ace_8"]
    'ACESWEAR'
    """
    folder = builtin_folder() / "column_maps"
    known = column_maps()
    if str(name).casefold() not in known:
        raise InstrumentError(
            f"unknown column map {str(name)!r}; the package ships {', '.join(known)}"
        )
    with open(folder / f"{str(name).casefold()}.toml", "rb") as fh:
        return {str(k): str(v) for k, v in tomllib.load(fh).items()}
