"""The data contract of a mentoring program: linked tables and their table schemas.

A program's data are the tables ``youth`` and ``surveys`` (required) and ``mentors``,
``mentor_surveys``, ``matches``, ``meetings``, ``goals``, ``relationship_surveys`` and
``pce_surveys`` (optional), linked by ids. This module holds
the :class:`Program` container and builds the Frictionless Data table schemas (field types,
constraints, missing-value codes, primary and foreign keys) that :mod:`tim_research.synth`
writes and :mod:`tim_research.io` validates against.

The pandas dtype of a field follows from its Frictionless type: ``string`` -> ``str`` (or a
categorical when the field has an ``enum`` constraint, ordered when ``categoriesOrdered`` is
true), ``integer`` -> ``Int64``, ``number`` -> ``float64``, ``boolean`` -> ``boolean`` and
``date`` -> ``datetime64[us]``.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

from tim_research.errors import DataError
from tim_research.instruments import Instrument, ResponseSet, load_instrument
from tim_research.vocabulary import CLOSURE_REASONS

__all__ = [
    "CLOSURE_REASONS",
    "GOAL_DOMAINS",
    "GOAL_REVIEWS",
    "MENTOR_WAVES",
    "RELATIONSHIP_WAVES",
    "RELATIONSHIP_WAVE_MONTHS",
    "SURVEY_STATUS",
    "OPTIONAL_TABLES",
    "REQUIRED_TABLES",
    "TABLES",
    "TABLE_DESCRIPTIONS",
    "TABLE_NEEDS",
    "WAVES",
    "Program",
    "field_dtype",
    "instrument_note",
    "item_columns",
    "item_instrument",
    "table_schemas",
]

TABLES: tuple[str, ...] = (
    "youth",
    "surveys",
    "mentors",
    "mentor_surveys",
    "matches",
    "meetings",
    "goals",
    "relationship_surveys",
    "pce_surveys",
)
"""Names of the tables of a program, in the order they are written."""

REQUIRED_TABLES: tuple[str, ...] = ("youth", "surveys")
"""Tables every program has: without them no notebook has anything to describe."""

OPTIONAL_TABLES: tuple[str, ...] = tuple(t for t in TABLES if t not in REQUIRED_TABLES)
"""Tables a program may leave out; an absent one is ``None`` on the :class:`Program`.

A table that refers to another (its foreign key) needs that table too: ``matches`` needs
``mentors``, ``mentor_surveys`` needs ``mentors``, ``meetings`` and ``relationship_surveys``
need ``matches`` (see :data:`TABLE_NEEDS`).

The last three came later (goals, relationship quality, positive childhood experiences) and are
separate tables rather than new columns of ``surveys``: a program that collects none of them
keeps a valid package with the files it has, and its ``surveys`` columns stay as they were.
"""

TABLE_NEEDS: Mapping[str, tuple[str, ...]] = {
    "youth": (),
    "surveys": ("youth",),
    "mentors": (),
    "mentor_surveys": ("mentors",),
    "matches": ("youth", "mentors"),
    "meetings": ("matches",),
    "goals": ("youth",),
    "relationship_surveys": ("matches",),
    "pce_surveys": ("youth",),
}
"""Tables each table refers to by a foreign key (see :func:`table_schemas`)."""

TABLE_DESCRIPTIONS: Mapping[str, str] = {
    "youth": "One row per enrolled youth: site, demographics, enrolment, comparison group.",
    "surveys": "One row per youth per wave (baseline, 6 and 12 months): item responses.",
    "mentors": "One row per mentor: site, age, trauma-informed training, supervision, caseload.",
    "mentor_surveys": "One row per mentor per wave (baseline, 12 months): ProQOL 5 and STSS.",
    "matches": "One row per match of a youth with a mentor: dates, closure reason.",
    "meetings": "One row per mentor-youth meeting: date, length, mode.",
    "goals": "One row per youth goal per review: domain, dates, expected and attained GAS level.",
    "relationship_surveys": (
        "One row per match, reporter (youth or mentor) and wave (3 and 12 months into the "
        "match, while it is open): relationship quality items."
    ),
    "pce_surveys": "One row per youth: Positive Childhood Experiences (PCEs) at enrolment.",
}
"""One-line description of each table."""

WAVES: tuple[str, ...] = ("baseline", "6m", "12m")
"""Youth survey waves; ``months`` holds 0, 6 and 12."""

MENTOR_WAVES: tuple[str, ...] = ("baseline", "12m")
"""Mentor survey waves; ``months`` holds 0 and 12."""

WAVE_MONTHS: Mapping[str, int] = {"baseline": 0, "6m": 6, "12m": 12}

RELATIONSHIP_WAVES: tuple[str, ...] = ("3m", "12m")
"""Relationship survey waves, months since the match started; ``months`` holds 3 and 12."""

RELATIONSHIP_WAVE_MONTHS: Mapping[str, int] = {"3m": 3, "12m": 12}

REPORTERS: tuple[str, ...] = ("youth", "mentor")
"""Who answered a relationship survey: the youth (YSoR, Youth-Centered Relationship scale) or
the mentor (MSoR)."""

GOAL_DOMAINS: tuple[str, ...] = (
    "education",
    "relationships",
    "health and well-being",
    "life skills",
    "work and future",
)
"""Domains of a youth's goals (the program's own grouping, for tables by domain)."""

GOAL_REVIEWS: tuple[str, ...] = ("6m", "12m", "closure")
"""Goal reviews: 6 and 12 months after the goal was set, or at the match's closure when it
closes before a scheduled review."""

SURVEY_STATUS: tuple[str, ...] = ("completed", "lost to follow-up", "not yet due")
"""Status of a scheduled survey; item responses are present only when ``completed``."""

GENDERS_YOUTH: tuple[str, ...] = ("girl", "boy", "another gender")
GENDERS_ADULT: tuple[str, ...] = ("woman", "man", "another gender")
RACE_ETHNICITY: tuple[str, ...] = (
    "Black",
    "Hispanic or Latino",
    "White",
    "Asian",
    "American Indian or Alaska Native",
    "Multiracial",
    "Another race or ethnicity",
)
REFERRAL_SOURCES: tuple[str, ...] = (
    "school",
    "family",
    "child welfare",
    "juvenile justice",
    "health or mental health provider",
    "community organisation",
)
SUPERVISION: tuple[str, ...] = ("monthly", "fortnightly", "weekly")
MEETING_MODES: tuple[str, ...] = ("in person", "remote")

_SHORT_NAMES: Mapping[str, str] = {
    # Instruments whose items the program tables hold, with the short name the codebook uses.
    # Items, codes, labels and reverse keys come from the instrument files; only these names
    # are the program's own wording.
    "ace10": "ACE questionnaire (CDC-Kaiser)",
    "brs": "Brief Resilience Scale",
    "cyrm_r": "CYRM-R, 5-point version",
    "proqol5": "ProQOL 5",
    "stss": "Secondary Traumatic Stress Scale",
    "ysor": "Youth Strength of Relationship (YSoR)",
    "youth_centered": "Youth-Centered Relationship scale",
    "msor": "Mentor Strength of Relationship (MSoR)",
    "pce": "Positive Childhood Experiences (PCEs)",
}

MISSING_VALUES: tuple[str, ...] = ("",)


def item_instrument(column: str) -> str | None:
    """Instrument id of an item column like ``brs_3`` (``None`` for other columns).

    Examples
    --------
    >>> item_instrument("cyrm_r_12"), item_instrument("youth_id")
    ('cyrm_r', None)
    """
    stem = column.rpartition("_")[0]
    if stem in _SHORT_NAMES and column in _instrument(stem).item_ids:
        return stem
    return None


@cache
def _instrument(instrument: str) -> Instrument:
    # The built-in file, as the program tables store raw codes of the default response format.
    return load_instrument(instrument)


def _response_set(instrument: str) -> ResponseSet:
    inst = _instrument(instrument)
    (set_id,) = {item.response_set for item in inst.items}  # one response format per instrument
    return inst.response_sets[set_id]


def _code_range(instrument: str) -> tuple[int, int]:
    rs = _response_set(instrument)
    codes = [c for c in rs.codes if c not in rs.missing_codes]
    return min(codes), max(codes)


def _reverse_keyed(instrument: str) -> tuple[int, ...]:
    return tuple(i for i, item in enumerate(_instrument(instrument).items, 1) if item.reverse)


def _name(instrument: str) -> str:
    """Short name and response anchors, e.g. ``ProQOL 5, 1 never ... 5 very often``."""
    rs = _response_set(instrument)
    if len(rs.codes) == 2:
        anchors = " / ".join(f"{c} {label}" for c, label in zip(rs.codes, rs.labels))
    else:
        first, last = (f"{rs.codes[j]} {rs.labels[j].lower()}" for j in (0, -1))
        anchors = f"{first} ... {last}"
    return f"{_SHORT_NAMES[instrument]}, {anchors}"


def instrument_note(instrument: str) -> str:
    """Short description of an instrument's items as stored in the tables (codebook text).

    Examples
    --------
    >>> print(instrument_note("brs"))
    Brief Resilience Scale, 1 strongly disagree ... 5 strongly agree; 6 items; reverse-keyed
    items 2, 4, 6 are stored raw
    """
    reverse = _reverse_keyed(instrument)
    text = f"{_name(instrument)}; {len(_instrument(instrument).items)} items"
    if instrument == "ace10":
        text += " (the ACE score is a population research measure, not a screening tool)"
    if instrument == "msor":
        text += " (item map and keying unverified: see the instrument's caveat; total only)"
    if reverse:
        text += "; reverse-keyed items " + ", ".join(str(i) for i in reverse) + " are stored raw"
    return text


def item_columns(instrument: str) -> list[str]:
    """Item column names ``<id>_<n>`` of an instrument used in the program tables.

    Examples
    --------
    >>> item_columns("brs")
    ['brs_1', 'brs_2', 'brs_3', 'brs_4', 'brs_5', 'brs_6']
    """
    return list(_instrument(instrument).item_ids)


def _items(instrument: str, when: str) -> list[dict[str, Any]]:
    name, (lo, hi), rs = _name(instrument), _code_range(instrument), _response_set(instrument)
    out = []
    for i, item in enumerate(_instrument(instrument).items, 1):
        text = f"{name}; item {i}"
        if instrument == "ace10":
            codes = ", ".join(f"{c} {label}" for c, label in zip(rs.codes, rs.labels))
            text = f"ACE category {i}, {item.label} ({codes})"
        if item.reverse:
            text += " (reverse-keyed)"
        out.append(
            {
                "name": item.id,
                "type": "integer",
                "description": f"{text}; {when}; empty = not answered",
                "constraints": {"minimum": lo, "maximum": hi},
            }
        )
    return out


def _enum(
    name: str, values: Sequence[str], description: str, *, required: bool, ordered: bool = False
) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "type": "string", "description": description}
    if ordered:
        field["categoriesOrdered"] = True
    field["constraints"] = {"enum": list(values)}
    if required:
        field["constraints"] = {"required": True, "enum": list(values)}
    return field


def _id(name: str, prefix: str, description: str, *, unique: bool = False) -> dict[str, Any]:
    constraints: dict[str, Any] = {"required": True, "pattern": f"{prefix}[0-9]+"}
    if unique:
        constraints["unique"] = True
    return {"name": name, "type": "string", "description": description, "constraints": constraints}


def _date(name: str, description: str, *, required: bool) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "type": "date", "format": "default"}
    field["description"] = description
    if required:
        field["constraints"] = {"required": True}
    return field


def _int(name: str, description: str, lo: int, hi: int, *, required: bool = True) -> dict:
    constraints: dict[str, Any] = {"minimum": lo, "maximum": hi}
    if required:
        constraints = {"required": True, **constraints}
    return {"name": name, "type": "integer", "description": description, "constraints": constraints}


def table_schemas(*, sites: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Frictionless table schemas of the program tables (:data:`TABLES`).

    Parameters
    ----------
    sites
        Site names, in display order (the ``enum`` of every ``site`` field).

    Returns
    -------
    dict
        ``{table name: table schema}`` in :data:`TABLES` order; each schema has ``fields``,
        ``missingValues``, ``primaryKey`` and, where tables link, ``foreignKeys``.

    Examples
    --------
    >>> s = table_schemas(sites=["North", "South"])
    >>> s["matches"]["primaryKey"], [fk["fields"] for fk in s["matches"]["foreignKeys"]]
    (['match_id'], [['youth_id'], ['mentor_id']])
    """
    sites = list(sites)
    site = _enum("site", sites, "Program site", required=True)

    youth = [
        _id("youth_id", "Y", "Pseudonymous youth id", unique=True),
        site,
        _int("age", "Age in years at enrolment", 8, 17),
        _enum(
            "gender", GENDERS_YOUTH, "Gender (self-described); empty = not stated", required=False
        ),
        _enum(
            "race_ethnicity",
            RACE_ETHNICITY,
            "Race/ethnicity (one category); empty = not stated",
            required=False,
        ),
        _enum("referral_source", REFERRAL_SOURCES, "Who referred the youth", required=True),
        _date("enrolment_date", "Date of enrolment and baseline survey", required=True),
        {
            "name": "comparison",
            "type": "boolean",
            "description": "True = waitlist comparison group (not matched during the study)",
            "constraints": {"required": True},
        },
    ]

    def wave_fields(
        waves: Sequence[str], who: str, month_of: Mapping[str, int] = WAVE_MONTHS
    ) -> list[dict[str, Any]]:
        months = [month_of[w] for w in waves]
        return [
            _enum("wave", waves, "Survey wave", required=True, ordered=True),
            {
                "name": "months",
                "type": "integer",
                "description": f"Months since {who} (0 = baseline)",
                "constraints": {"required": True, "enum": months},
            },
            _enum(
                "status",
                SURVEY_STATUS,
                "Survey status; items are present only when completed; 'not yet due' = "
                "scheduled after the data cut-off",
                required=True,
            ),
            _date(
                "survey_date",
                "Date the survey was completed; empty unless completed",
                required=False,
            ),
        ]

    surveys = [
        _id("youth_id", "Y", "Youth id (youth.youth_id)"),
        *wave_fields(WAVES, "enrolment"),
        *_items("ace10", "baseline only"),
        *_items("brs", "every wave"),
        *_items("cyrm_r", "every wave"),
    ]

    mentors = [
        _id("mentor_id", "M", "Pseudonymous mentor id", unique=True),
        site,
        _int("age", "Age in years at the first match", 18, 80),
        _enum(
            "gender", GENDERS_ADULT, "Gender (self-described); empty = not stated", required=False
        ),
        {
            "name": "training_hours",
            "type": "number",
            "description": "Hours of trauma-informed training completed before the first match",
            "constraints": {"required": True, "minimum": 0, "maximum": 200},
        },
        _enum(
            "supervision",
            SUPERVISION,
            "How often the mentor meets a supervisor",
            required=True,
            ordered=True,
        ),
        _int("caseload", "Number of youth matched with this mentor in the program", 1, 10),
    ]

    mentor_surveys = [
        _id("mentor_id", "M", "Mentor id (mentors.mentor_id)"),
        *wave_fields(MENTOR_WAVES, "the mentor's baseline survey"),
        *_items("proqol5", "baseline and 12 months"),
        *_items("stss", "baseline and 12 months"),
    ]

    matches = [
        _id("match_id", "X", "Match id", unique=True),
        _id("youth_id", "Y", "Youth id (youth.youth_id)"),
        _id("mentor_id", "M", "Mentor id (mentors.mentor_id)"),
        _date("start_date", "Date the match started (first meeting)", required=True),
        _date(
            "end_date",
            "Date the match closed; empty = still open at the data cut-off (censored)",
            required=False,
        ),
        _enum(
            "closure_reason",
            CLOSURE_REASONS,
            "Why the match closed; empty when open",
            required=False,
        ),
        _int("planned_months", "Planned duration of the match in months", 1, 60),
    ]
    matches[1]["constraints"]["unique"] = True

    meetings = [
        {
            "name": "meeting_id",
            "type": "string",
            "description": "Meeting id: match id and running number",
            "constraints": {"required": True, "unique": True, "pattern": "X[0-9]+-[0-9]+"},
        },
        _id("match_id", "X", "Match id (matches.match_id)"),
        _date("date", "Date of the meeting (within the match's dates)", required=True),
        _int("minutes", "Length of the meeting in minutes", 5, 600),
        _enum("mode", MEETING_MODES, "In person or remote (video/phone)", required=True),
    ]

    goals = [
        _id("goal_id", "G", "Goal id (one goal of one youth; the same at every review)"),
        _id("youth_id", "Y", "Youth id (youth.youth_id)"),
        _enum("domain", GOAL_DOMAINS, "Domain of the goal", required=True),
        _date("set_date", "Date the goal was set", required=True),
        _enum(
            "review",
            GOAL_REVIEWS,
            "Review: 6 or 12 months after the goal was set, or at the match's closure",
            required=True,
            ordered=True,
        ),
        _date("review_date", "Date of the review", required=True),
        _int(
            "expected",
            "Level expected at this review on the Goal Attainment Scaling scale (-2..+2; 0 = "
            "the expected outcome of the goal)",
            -2,
            2,
        ),
        _int(
            "attained",
            "Level attained at this review (-2 much less than expected .. +2 much more); "
            "empty = not rated",
            -2,
            2,
            required=False,
        ),
        {
            "name": "weight",
            "type": "number",
            "description": "Weight of the goal in the GAS T-score (e.g. importance x "
            "difficulty; 1 = equal weights)",
            "constraints": {"required": True, "minimum": 0.1, "maximum": 100},
        },
    ]

    relationship_surveys = [
        _id("match_id", "X", "Match id (matches.match_id)"),
        _enum("reporter", REPORTERS, "Who answered: the youth or the mentor", required=True),
        *wave_fields(RELATIONSHIP_WAVES, "the match started", RELATIONSHIP_WAVE_MONTHS),
        *_items("ysor", "youth reports only"),
        *_items("youth_centered", "youth reports only"),
        *_items("msor", "mentor reports only"),
    ]

    pce_surveys = [
        _id("youth_id", "Y", "Youth id (youth.youth_id)", unique=True),
        _date("survey_date", "Date the youth answered (at enrolment)", required=True),
        *_items("pce", "at enrolment"),
    ]

    def fk(field: str, table: str) -> dict[str, Any]:
        return {"fields": [field], "reference": {"resource": table, "fields": [field]}}

    def schema(flds, pk, fks=()):
        out: dict[str, Any] = {"fields": flds, "missingValues": list(MISSING_VALUES)}
        out["primaryKey"] = list(pk)
        if fks:
            out["foreignKeys"] = list(fks)
        return out

    return {
        "youth": schema(youth, ["youth_id"]),
        "surveys": schema(surveys, ["youth_id", "wave"], [fk("youth_id", "youth")]),
        "mentors": schema(mentors, ["mentor_id"]),
        "mentor_surveys": schema(
            mentor_surveys, ["mentor_id", "wave"], [fk("mentor_id", "mentors")]
        ),
        "matches": schema(
            matches, ["match_id"], [fk("youth_id", "youth"), fk("mentor_id", "mentors")]
        ),
        "meetings": schema(meetings, ["meeting_id"], [fk("match_id", "matches")]),
        "goals": schema(goals, ["goal_id", "review"], [fk("youth_id", "youth")]),
        "relationship_surveys": schema(
            relationship_surveys, ["match_id", "reporter", "wave"], [fk("match_id", "matches")]
        ),
        "pce_surveys": schema(pce_surveys, ["youth_id"], [fk("youth_id", "youth")]),
    }


def field_dtype(field: Mapping[str, Any]) -> Any:
    """The pandas dtype a Frictionless field is read into.

    Examples
    --------
    >>> field_dtype({"name": "age", "type": "integer"})
    Int64Dtype()
    >>> field_dtype({"name": "wave", "type": "string", "categoriesOrdered": True,
    ...              "constraints": {"enum": ["baseline", "6m"]}})
    CategoricalDtype(categories=['baseline', '6m'], ordered=True, categories_dtype=str)
    """
    kind = field.get("type", "string")
    enum = field.get("constraints", {}).get("enum")
    if kind == "string":
        if enum is not None:
            return pd.CategoricalDtype(
                pd.Index([str(v) for v in enum], dtype="str"),
                ordered=bool(field.get("categoriesOrdered", False)),
            )
        return pd.api.types.pandas_dtype("str")
    if kind == "integer":
        return pd.Int64Dtype()
    if kind == "number":
        return "float64"
    if kind == "boolean":
        return pd.BooleanDtype()
    if kind in ("date", "datetime"):
        return "datetime64[us]"
    raise ValueError(f"unsupported field type {kind!r} for field {field.get('name')!r}")


@dataclass(frozen=True, eq=False)
class Program:
    """The linked tables of one mentoring program.

    Attributes
    ----------
    youth, surveys
        The two tables every program has (see :func:`table_schemas` and
        ``data/sample/CODEBOOK.md``).
    mentors, mentor_surveys, matches, meetings, goals, relationship_surveys, pce_surveys
        The optional tables (:data:`OPTIONAL_TABLES`), keyword-only; ``None`` when the program
        does not have that table. :attr:`available` lists the tables present.
    cutoff
        Data cut-off date: open matches are censored here; surveys scheduled later are
        ``"not yet due"``.
    effects
        For synthetic programs, the planted effects (:class:`tim_research.synth.Effects`);
        ``None`` for real data.

    Examples
    --------
    >>> from tim_research import synth
    >>> p = synth.program(n_youth=20, seed=0)
    >>> int(p.to_frame().loc["surveys", "rows"]), p.sites
    (60, ['North', 'South', 'East', 'West'])
    >>> Program(youth=p.youth, surveys=p.surveys, cutoff=p.cutoff).available
    ('youth', 'surveys')
    """

    youth: pd.DataFrame
    surveys: pd.DataFrame
    cutoff: pd.Timestamp
    effects: Any = None
    mentors: pd.DataFrame | None = dataclasses.field(default=None, kw_only=True)
    mentor_surveys: pd.DataFrame | None = dataclasses.field(default=None, kw_only=True)
    matches: pd.DataFrame | None = dataclasses.field(default=None, kw_only=True)
    meetings: pd.DataFrame | None = dataclasses.field(default=None, kw_only=True)
    goals: pd.DataFrame | None = dataclasses.field(default=None, kw_only=True)
    relationship_surveys: pd.DataFrame | None = dataclasses.field(default=None, kw_only=True)
    pce_surveys: pd.DataFrame | None = dataclasses.field(default=None, kw_only=True)

    @property
    def available(self) -> tuple[str, ...]:
        """Names of the tables present, in :data:`TABLES` order."""
        return tuple(name for name in TABLES if getattr(self, name) is not None)

    def has(self, *names: str) -> bool:
        """True when every named table is present.

        Examples
        --------
        >>> from tim_research import synth
        >>> synth.program(n_youth=20).has("matches", "meetings")
        True
        """
        unknown = [n for n in names if n not in TABLES]
        if unknown:
            raise DataError(f"{unknown} are not program tables; tables are {list(TABLES)}")
        return all(getattr(self, n) is not None for n in names)

    def require(self, *names: str, what: str) -> None:
        """Raise a one-line :class:`DataError` unless every named table is present.

        ``what`` names the step that needs them, for the message.

        Examples
        --------
        >>> from tim_research import synth
        >>> p = synth.program(n_youth=20)
        >>> p.require("matches", what="match durations")  # present: nothing happens
        """
        if not self.has(*names):
            gone = [n for n in names if getattr(self, n) is None]
            files = " and ".join(f"{n}.csv" for n in gone)
            raise DataError(
                f"{what} needs {files}, which this program's data do not include; add the "
                "table to the data package (see CODEBOOK.md), or leave this step out"
            )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables present as ``{name: DataFrame}`` in :data:`TABLES` order."""
        return {name: getattr(self, name) for name in self.available}

    @property
    def sites(self) -> list[str]:
        """Site names: the categories of ``youth.site`` (in order), else the values seen."""
        site = self.youth["site"]
        if isinstance(site.dtype, pd.CategoricalDtype):
            return [str(s) for s in site.cat.categories]
        return [str(s) for s in pd.unique(site.dropna())]

    def to_frame(self) -> pd.DataFrame:
        """One row per table present: number of rows and columns and share of missing cells."""
        rows = []
        for name, df in self.tables().items():
            cells = df.shape[0] * df.shape[1]
            missing = float(df.isna().to_numpy().sum()) / cells if cells else float("nan")
            rows.append(
                {"table": name, "rows": len(df), "columns": df.shape[1], "missing_share": missing}
            )
        return pd.DataFrame(rows).set_index("table")

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={len(df)} rows" for n, df in self.tables().items())
        return f"Program({parts}, cutoff={self.cutoff.date()})"

    def _repr_html_(self) -> str:
        head = html.escape(f"Program (data cut-off {self.cutoff.date()})")
        return f"<p><b>{head}</b></p>" + self.to_frame().to_html()

    def __post_init__(self) -> None:
        for name in TABLES:
            value = getattr(self, name)
            if value is None and name in OPTIONAL_TABLES:
                continue
            if not isinstance(value, pd.DataFrame):
                what = "a pandas DataFrame" + (" or None" if name in OPTIONAL_TABLES else "")
                raise DataError(f"Program.{name} must be {what}, got {type(value).__name__}")
        for name in self.available:
            absent = [t for t in TABLE_NEEDS[name] if getattr(self, t) is None]
            if absent:
                raise DataError(
                    f"Program.{name} refers to the {' and '.join(absent)} table(s), which are "
                    f"missing; give them too, or leave {name} out (None)"
                )
        try:
            cutoff = pd.Timestamp(self.cutoff)
        except (TypeError, ValueError) as exc:
            raise DataError(f"Program.cutoff must be a date, got {self.cutoff!r}") from exc
        if pd.isna(cutoff):
            raise DataError("Program.cutoff must be a date, got a missing value")
        object.__setattr__(self, "cutoff", cutoff)
