"""Program evaluation: the primary estimate, WWC-style tables and sensitivity analyses.

What a funder or a clearinghouse reviewer asks of an outcomes report, in one place:

- :func:`analysis_plan`: the primary outcome and estimand, secondary outcomes and the
  multiplicity rule, declared before the results and shown with them.
- :func:`itt_effect`: intention-to-treat effect at the sites where both arms exist, ANCOVA
  with baseline and site fixed effects, optionally with standard errors clustered by mentor;
  the effect size in the What Works Clearinghouse (WWC) form with its improvement index.
- :func:`baseline_equivalence` and :func:`attrition`: the WWC Procedures and Standards
  Handbook's baseline equivalence bands and attrition boundary.
- :func:`benjamini_hochberg`: false discovery rate adjustment of secondary p-values.
- :func:`e_value`: how strong unmeasured confounding would have to be to explain an estimate
  away (VanderWeele & Ding 2017).
- :func:`tipping_point`: delta-adjusted multiple imputation of missing follow-up scores.

Checked against R (``tests/reference/evaluation_reference.R``: ``lm`` with
``sandwich::vcovCL``, ``p.adjust``, the WWC formulas) and against independent computations
in ``tests/test_evaluation.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from tim_research._checks import check_conf_level as _check_conf
from tim_research._checks import check_min_cell
from tim_research._checks import show_labels as _show
from tim_research.errors import DataError
from tim_research.stats.outcomes import (
    _html,
    _impute,
    _ols,
    _require_columns,
    _require_numeric,
    _wwc_g,
    pool_rubin,
)

__all__ = [
    "AnalysisPlan",
    "analysis_plan",
    "ITTEffect",
    "itt_effect",
    "baseline_equivalence",
    "Attrition",
    "attrition",
    "benjamini_hochberg",
    "EValue",
    "e_value",
    "TippingPoint",
    "tipping_point",
]

_BOUNDARY_FILE = (
    Path(__file__).resolve().parents[1] / "reference_data" / "wwc_attrition_boundary.csv"
)


def _scalar_frame(obj: object) -> pd.DataFrame:
    row: dict[str, object] = {}
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, tuple) and len(value) == 2 and f.name.endswith("_ci"):
            row[f"{f.name}_lower"], row[f"{f.name}_upper"] = value
        elif isinstance(value, tuple):
            row[f.name] = ", ".join(map(str, value))
        elif isinstance(value, (pd.DataFrame, pd.Series)):
            continue
        else:
            row[f.name] = value
    return pd.DataFrame([row])


def _arms(data: pd.DataFrame, arm: str, treated: object) -> object:
    """The control level of a two-level ``arm`` column; every row needs its arm."""
    missing = data[arm].isna().to_numpy()
    if missing.any():
        raise DataError(f"{arm!r} is missing in {int(missing.sum())} rows; every row needs its arm")
    levels = pd.unique(data[arm]).tolist()
    if treated not in levels:
        raise DataError(f"treated={treated!r} is not a level of {arm!r}: {_show(levels)}")
    if len(levels) != 2:
        raise DataError(f"{arm!r} must have exactly two levels, found {_show(levels)}")
    return levels[1] if levels[0] == treated else levels[0]


# ------------------------------------------------------------------------------------------------
# analysis plan
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnalysisPlan:
    """A declared analysis plan (see :func:`analysis_plan`)."""

    primary: str
    estimand: str
    secondary: tuple[str, ...]
    multiplicity: str
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """One row per outcome: ``role``, ``outcome``, ``estimand``, ``multiplicity``."""
        rule = {"BH": "Benjamini-Hochberg (false discovery rate)", "none": "none"}
        rows = [
            {
                "role": "primary",
                "outcome": self.primary,
                "estimand": self.estimand,
                "multiplicity": f"none (single primary test, alpha {self.alpha:g})",
            }
        ]
        for s in self.secondary:
            rows.append(
                {
                    "role": "secondary",
                    "outcome": s,
                    "estimand": self.estimand,
                    "multiplicity": f"{rule[self.multiplicity]} across the "
                    f"{len(self.secondary)} secondary tests",
                }
            )
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return _html("Analysis plan", self.to_frame())


def analysis_plan(spec: Mapping[str, object], *, outcomes: Sequence[str]) -> AnalysisPlan:
    """Check a declared analysis plan and return it as a small object with a table.

    Parameters
    ----------
    spec
        Mapping with ``primary`` (one outcome label), ``estimand`` (text), ``secondary`` (list
        of outcome labels, may be empty), ``multiplicity`` (``"BH"`` or ``"none"``) and
        optionally ``alpha`` (default 0.05). Usually a notebook parameter set per report run
        in ``reports.toml``.
    outcomes
        The outcome labels the analysis knows how to compute; every label in ``spec`` must be
        one of them.

    Returns
    -------
    AnalysisPlan

    Examples
    --------
    >>> plan = analysis_plan({"primary": "BRS 12 months", "estimand": "ITT",
    ...                       "secondary": ["CYRM-R 12 months"], "multiplicity": "BH"},
    ...                      outcomes=["BRS 12 months", "CYRM-R 12 months"])
    >>> plan.to_frame()["role"].tolist()
    ['primary', 'secondary']
    """
    if not isinstance(spec, Mapping):
        raise DataError(f"the analysis plan must be a mapping, got {type(spec).__name__}")
    allowed = {"primary", "estimand", "secondary", "multiplicity", "alpha"}
    unknown = sorted(set(spec) - allowed)
    missing = sorted({"primary", "estimand", "secondary", "multiplicity"} - set(spec))
    if unknown or missing:
        raise DataError(
            f"the analysis plan needs keys {sorted(allowed - {'alpha'})} (and optionally "
            f"'alpha'); missing {missing}, unknown {unknown}"
        )
    known = list(outcomes)
    secondary = spec["secondary"]
    if isinstance(secondary, str) or not isinstance(secondary, Sequence):
        raise DataError("the plan's 'secondary' must be a list of outcome labels")
    labels = [spec["primary"], *secondary]
    bad = [lab for lab in labels if lab not in known]
    if bad:
        raise DataError(f"the plan names outcomes {_show(bad)} that are not among {_show(known)}")
    if len(set(labels)) != len(labels):
        raise DataError("an outcome appears twice in the plan (primary and secondary differ)")
    if spec["multiplicity"] not in ("BH", "none"):
        raise DataError(
            f"the plan's multiplicity must be 'BH' or 'none', got {spec['multiplicity']!r}"
        )
    alpha = spec.get("alpha", 0.05)
    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise DataError(f"the plan's alpha must be a number in (0, 1), got {alpha!r}")
    return AnalysisPlan(
        primary=str(spec["primary"]),
        estimand=str(spec["estimand"]),
        secondary=tuple(str(s) for s in secondary),
        multiplicity=str(spec["multiplicity"]),
        alpha=float(alpha),
    )


# ------------------------------------------------------------------------------------------------
# intention-to-treat effect
# ------------------------------------------------------------------------------------------------
def _two_arm_sites(
    data: pd.DataFrame, arm: str, site: str
) -> tuple[pd.Series, list[object], list[object]]:
    """Rows at sites where both arms exist, the sites kept and the sites left out."""
    if data[site].isna().any():
        raise DataError(f"{site!r} is missing in {int(data[site].isna().sum())} rows")
    arms_per_site = data.groupby(site, observed=True, sort=True)[arm].nunique()
    kept = [s for s, k in arms_per_site.items() if k == 2]
    dropped = [s for s, k in arms_per_site.items() if k != 2]
    if not kept:
        raise DataError(f"no {site!r} has both arms; the effect cannot be estimated within sites")
    return data[site].isin(kept), kept, dropped


def _site_dummies(values: pd.Series, sites: list[object]) -> tuple[np.ndarray, list[str]]:
    cols = [(values == s).to_numpy(dtype=float) for s in sites[1:]]
    names = [f"site[{s}]" for s in sites[1:]]
    return (np.column_stack(cols) if cols else np.empty((len(values), 0))), names


def _cluster_vcov(x: np.ndarray, resid: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """CR1 sandwich, as R's ``sandwich::vcovCL(fit, cluster, type = "HC1")``.

    ``G / (G - 1) * (N - 1) / (N - K) * (X'X)^-1 (sum_g X_g' e_g e_g' X_g) (X'X)^-1``.
    """
    n, k = x.shape
    bread = np.linalg.inv(x.T @ x)
    codes, _ = pd.factorize(groups)
    g = int(codes.max()) + 1
    scores = np.zeros((g, k))
    np.add.at(scores, codes, x * resid[:, None])
    meat = scores.T @ scores
    adj = g / (g - 1) * (n - 1) / (n - k)
    return adj * bread @ meat @ bread


@dataclass(frozen=True)
class ITTEffect:
    """Intention-to-treat effect within sites (see :func:`itt_effect`)."""

    outcome: str
    treated: object
    control: object
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    t: float
    df: int
    p: float
    n: int
    n_treated: int
    n_control: int
    n_dropped: int
    sites: tuple[str, ...]
    excluded_sites: tuple[str, ...]
    n_excluded: int
    se_type: str
    n_clusters: int
    hedges_g: float
    hedges_g_ci: tuple[float, float]
    improvement_index: float
    coefficients: pd.DataFrame
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame; intervals become ``<name>_lower``/``<name>_upper`` columns."""
        return _scalar_frame(self)

    def _repr_html_(self) -> str:
        return _html(f"{self.outcome}: {self.treated} vs {self.control}", self.to_frame().T)


def itt_effect(
    data: pd.DataFrame,
    outcome: str,
    *,
    baseline: str,
    arm: str = "arm",
    treated: object = "mentored",
    site: str = "site",
    cluster: str | None = None,
    covariates: Sequence[str] = (),
    conf_level: float = 0.95,
) -> ITTEffect:
    """Intention-to-treat effect at the sites where both arms exist, with site fixed effects.

    Where assignment is random within a site, comparing arms across sites mixes the effect
    with differences between sites. This fits ``outcome ~ treated + baseline + covariates +
    site`` by least squares on the rows of sites that have both arms (sites with one arm are
    left out and named in ``excluded_sites``) with complete data, as R's
    ``lm(post ~ arm + pre + factor(site))``. With ``cluster`` (e.g. the mentor id, when
    youth share a mentor) the standard error is cluster-robust, CR1 as R's
    ``sandwich::vcovCL(fit, cluster, type = "HC1")``, and the t reference distribution has
    ``G - 1`` degrees of freedom (``G`` clusters; rows with a missing cluster id, such as
    comparison youth without a mentor, are clusters of their own).

    The effect size is the WWC Hedges' g of an adjusted difference (WWC Procedures and
    Standards Handbook 5.0): ``omega * estimate / s_pooled`` with the pooled within-arm SD of
    the unadjusted outcome and ``omega = 1 - 3 / (4 N - 9)``; its interval is the interval of
    the adjusted difference times the same factor ``omega / s_pooled`` (so it reflects the
    covariate adjustment and, with ``cluster``, the clustering), and the improvement index is
    ``100 * (Phi(g) - 0.5)``, the expected percentile gain of an average control member.

    Parameters
    ----------
    data
        One row per person assigned to an arm (the randomised sample), with the follow-up
        ``outcome``, the ``baseline`` score, ``arm`` and ``site``.
    outcome, baseline
        Numeric columns.
    arm, treated
        Two-level assignment column and its treated level; the other level is the control.
    site
        Site column (the strata of assignment).
    cluster
        Optional cluster column for robust standard errors.
    covariates
        Further numeric adjustment columns.
    conf_level
        Coverage of the intervals.

    Returns
    -------
    ITTEffect
        ``estimate`` is treated minus control; ``n_dropped`` counts rows at two-arm sites with
        a missing outcome, baseline or covariate, ``n_excluded`` rows at one-arm sites.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"site": np.repeat(["a", "b", "c"], 60),
    ...                   "arm": np.tile(["mentored", "comparison"], 90)})
    >>> d.loc[d["site"] == "c", "arm"] = "mentored"
    >>> d["pre"] = rng.normal(size=180)
    >>> d["post"] = d["pre"] + 1.0 * (d["arm"] == "mentored") + rng.normal(size=180)
    >>> r = itt_effect(d, "post", baseline="pre")
    >>> r.n, r.excluded_sites, round(r.estimate)
    (120, ('c',), 1)
    """
    _check_conf(conf_level)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    used = [outcome, baseline, arm, site, *covariates] + ([cluster] if cluster else [])
    _require_columns(data, used)
    if len(set(used)) != len(used):
        raise DataError(f"outcome, baseline, arm, site, cluster and covariates must differ: {used}")
    _require_numeric(data, [outcome, baseline, *covariates])
    control = _arms(data, arm, treated)
    at_sites, kept, dropped = _two_arm_sites(data, arm, site)
    part = data[at_sites]
    complete = part[[outcome, baseline, *covariates]].notna().all(axis=1)
    frame = part[complete]
    is_treated = (frame[arm] == treated).to_numpy()
    if is_treated.sum() < 2 or (~is_treated).sum() < 2:
        raise DataError("each arm needs at least two rows with complete data at two-arm sites")
    sites_here = [s for s in kept if (frame[site] == s).any()]
    dummies, dummy_names = _site_dummies(frame[site], sites_here)
    x = np.column_stack(
        [
            np.ones(len(frame)),
            is_treated.astype(float),
            frame[[baseline, *covariates]].to_numpy(dtype=float),
            dummies,
        ]
    )
    names = ["Intercept", f"{arm}[{treated}]", baseline, *covariates, *dummy_names]
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise DataError(f"the design {names} is collinear (a covariate is constant or repeated)")
    if len(frame) <= x.shape[1]:
        raise DataError(f"{len(frame)} complete rows are too few for {len(names)} coefficients")
    y = frame[outcome].to_numpy(dtype=float)
    params, bse, df = _ols(y, x)
    n_clusters = len(frame)
    se_type = "OLS"
    if cluster:
        ids = frame[cluster].astype(object).to_numpy()
        lone = pd.isna(ids)
        ids = np.where(lone, [f"__row{i}" for i in range(len(ids))], ids.astype(str))
        resid = y - x @ params
        bse = np.sqrt(np.diag(_cluster_vcov(x, resid, ids)))
        n_clusters = int(pd.unique(ids).size)
        df = n_clusters - 1
        se_type = f"cluster-robust (CR1) by {cluster}"
    tq = float(stats.t.ppf(1 - (1 - conf_level) / 2, df))
    tvals = params / bse
    coef = pd.DataFrame(
        {
            "estimate": params,
            "se": bse,
            "t": tvals,
            "p": 2 * stats.t.sf(np.abs(tvals), df),
            "ci_lower": params - tq * bse,
            "ci_upper": params + tq * bse,
        },
        index=pd.Index(names, name="term"),
    )
    n_t, n_c = int(is_treated.sum()), int((~is_treated).sum())
    # g is the adjusted difference times omega / s_pooled: its interval is the difference's
    # interval times the same factor, so it carries the adjustment and any clustering
    scale = _wwc_g(1.0, y, is_treated)
    g = scale * float(params[1])
    return ITTEffect(
        outcome=outcome,
        treated=treated,
        control=control,
        estimate=float(params[1]),
        se=float(bse[1]),
        ci_lower=float(coef["ci_lower"].iloc[1]),
        ci_upper=float(coef["ci_upper"].iloc[1]),
        t=float(tvals[1]),
        df=int(df),
        p=float(coef["p"].iloc[1]),
        n=len(frame),
        n_treated=n_t,
        n_control=n_c,
        n_dropped=int((~complete).sum()),
        sites=tuple(str(s) for s in kept),
        excluded_sites=tuple(str(s) for s in dropped),
        n_excluded=int((~at_sites).sum()),
        se_type=se_type,
        n_clusters=n_clusters,
        hedges_g=g,
        hedges_g_ci=(
            scale * float(coef["ci_lower"].iloc[1]),
            scale * float(coef["ci_upper"].iloc[1]),
        ),
        improvement_index=100.0 * (float(stats.norm.cdf(g)) - 0.5),
        coefficients=coef,
        conf_level=conf_level,
    )


# ------------------------------------------------------------------------------------------------
# baseline equivalence
# ------------------------------------------------------------------------------------------------
def _wwc_band(g: float) -> str:
    if not math.isfinite(g):
        return ""
    if abs(g) <= 0.05:
        return "satisfies"
    if abs(g) <= 0.25:
        return "requires statistical adjustment"
    return "does not satisfy"


def _is_binary(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s):
        return True
    values = set(pd.unique(s.dropna()).tolist())
    return bool(values) and values <= {0, 1}


def baseline_equivalence(
    data: pd.DataFrame,
    covariates: Sequence[str],
    *,
    arm: str = "arm",
    treated: object = "mentored",
    min_cell: int = 5,
) -> pd.DataFrame:
    """WWC baseline equivalence of the analysed sample: Hedges' g per covariate and its band.

    Continuous covariates: ``g = omega * (mean_t - mean_c) / s_pooled`` with the pooled
    within-arm SD and ``omega = 1 - 3 / (4 N - 9)``. Binary (0/1 or boolean) covariates: the
    Cox index ``omega * (logit(p_t) - logit(p_c)) / 1.65`` (WWC Procedures and Standards
    Handbook 5.0, effect sizes for dichotomous outcomes). Bands of ``|g|`` (Handbook 5.0):
    at most 0.05 "satisfies", above 0.05 to 0.25 "requires statistical adjustment" (the
    covariate must be in the impact model), above 0.25 "does not satisfy".

    Parameters
    ----------
    data
        The analysed sample (e.g. youth with the outcome observed at two-arm sites).
    covariates
        Numeric or boolean columns measured before assignment. Missing values are left out
        covariate by covariate (``n_treated``/``n_control`` say how many were used).
    arm, treated
        Two-level assignment column and its treated level.
    min_cell
        A binary covariate whose count of 1s or 0s in an arm is 1 to ``min_cell - 1`` has its
        shares and g masked (``suppressed`` True): the share and n would give the count.

    Returns
    -------
    pandas.DataFrame
        One row per covariate: ``covariate``, ``kind`` ("continuous"/"binary"),
        ``n_treated``, ``n_control``, ``mean_treated``, ``mean_control`` (shares for binary),
        ``sd_treated``, ``sd_control`` (continuous only), ``hedges_g``, ``band``,
        ``suppressed``, ``note``.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["t"] * 4 + ["c"] * 4,
    ...                   "age": [10, 12, 14, 16, 10.5, 12.5, 14.5, 16.5],
    ...                   "girl": [1, 0, 1, 0, 1, 0, 1, 0]})
    >>> t = baseline_equivalence(d, ["age", "girl"], treated="t", min_cell=0)
    >>> t[["covariate", "band"]]
      covariate                            band
    0       age  requires statistical adjustment
    1      girl                       satisfies
    """
    min_cell = check_min_cell(min_cell)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    _require_columns(data, [arm, *covariates])
    _arms(data, arm, treated)
    is_t = (data[arm] == treated).to_numpy()
    rows = []
    for c in covariates:
        col = data[c]
        binary = _is_binary(col)
        if not binary:
            _require_numeric(data, [c])
        v = col.astype("float64").to_numpy(na_value=np.nan)
        a, b = v[is_t & ~np.isnan(v)], v[~is_t & ~np.isnan(v)]
        n_t, n_c = len(a), len(b)
        row: dict[str, object] = {
            "covariate": c, "kind": "binary" if binary else "continuous",
            "n_treated": n_t, "n_control": n_c, "suppressed": False, "note": "",
        }  # fmt: skip
        if n_t < 2 or n_c < 2:
            row["note"] = "fewer than two observed values in an arm"
            rows.append(row)
            continue
        n = n_t + n_c
        omega = 1.0 - 3.0 / (4.0 * n - 9.0)
        row["mean_treated"], row["mean_control"] = float(a.mean()), float(b.mean())
        if binary:
            counts = [a.sum(), n_t - a.sum(), b.sum(), n_c - b.sum()]
            if min_cell and any(0 < k < min_cell for k in counts):
                row.update(mean_treated=math.nan, mean_control=math.nan, suppressed=True,
                           note=f"suppressed: a count below min_cell={min_cell}")  # fmt: skip
                rows.append(row)
                continue
            pt, pc = a.mean(), b.mean()
            if pt in (0.0, 1.0) or pc in (0.0, 1.0):
                row["note"] = "a share of 0 or 1: the Cox index is undefined"
                g = math.nan
            else:
                g = omega * (math.log(pt / (1 - pt)) - math.log(pc / (1 - pc))) / 1.65
        else:
            sa, sb = float(a.std(ddof=1)), float(b.std(ddof=1))
            row["sd_treated"], row["sd_control"] = sa, sb
            pooled = math.sqrt(((n_t - 1) * sa**2 + (n_c - 1) * sb**2) / (n - 2))
            g = omega * (a.mean() - b.mean()) / pooled if pooled > 0 else math.nan
        row["hedges_g"] = float(g)
        row["band"] = _wwc_band(float(g))
        rows.append(row)
    columns = [
        "covariate", "kind", "n_treated", "n_control", "mean_treated", "mean_control",
        "sd_treated", "sd_control", "hedges_g", "band", "suppressed", "note",
    ]  # fmt: skip
    out = pd.DataFrame(rows).reindex(columns=columns)
    out["band"] = out["band"].astype(object).where(out["band"].notna(), "")
    return out


# ------------------------------------------------------------------------------------------------
# attrition
# ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _boundary_table() -> pd.DataFrame:
    return pd.read_csv(_BOUNDARY_FILE, comment="#").set_index("overall_pct")


@dataclass(frozen=True)
class Attrition:
    """Overall and differential attrition against the WWC boundary (see :func:`attrition`)."""

    table: pd.DataFrame
    overall: float
    differential: float
    boundary: str
    max_differential: float
    rating: str
    suppressed: bool

    def to_frame(self) -> pd.DataFrame:
        """The per-arm table followed by an ``overall`` row."""
        return self.table

    def _repr_html_(self) -> str:
        head = (
            f"Attrition: overall {self.overall:.1%}, differential {self.differential:.1%} "
            f"({self.boundary} boundary {self.max_differential:.1%}): {self.rating}"
        )
        return _html(head, self.table)


def attrition(
    data: pd.DataFrame,
    outcome: str,
    *,
    arm: str = "arm",
    treated: object = "mentored",
    boundary: Literal["cautious", "optimistic"] = "cautious",
    min_cell: int = 5,
) -> Attrition:
    """Overall and differential attrition by arm and the WWC rating (low or high attrition).

    Attrition is the share of the assigned sample (the rows of ``data``) without the
    ``outcome``. Overall attrition is over both arms; differential attrition is the absolute
    difference between the arms' rates. The WWC boundary (Standards Handbook 4.1 Table II.1,
    kept in version 5.0; shipped in ``reference_data/wwc_attrition_boundary.csv`` with its
    source) gives, for overall attrition rounded to a whole percent, the highest differential
    attrition at which attrition is still "low". The **cautious** boundary applies when the
    intervention may itself change who stays in the study (for example when a closed match
    makes a missed survey more likely); the optimistic one when that is unlikely. The choice
    belongs in the analysis plan, not after the results.

    Parameters
    ----------
    data
        One row per assigned person (at the sites analysed).
    outcome
        Follow-up column; missing = attrited.
    arm, treated
        Two-level assignment column and its treated level.
    boundary
        ``"cautious"`` (default) or ``"optimistic"``.
    min_cell
        When an arm's number analysed or lost is 1 to ``min_cell - 1``, every count and rate
        is masked (``suppressed``): the rates and the overall figures would give it back.

    Returns
    -------
    Attrition
        ``table``: per arm and overall, ``n_assigned``, ``n_analysed``, ``n_lost`` and
        ``attrition``; ``overall``, ``differential``, ``max_differential`` as proportions
        (NaN beyond the boundary's range) and ``rating`` ("low" or "high").

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["t"] * 100 + ["c"] * 100,
    ...                   "y": [1.0] * 90 + [None] * 10 + [1.0] * 85 + [None] * 15})
    >>> a = attrition(d, "y", treated="t")
    >>> round(a.overall, 3), round(a.differential, 3), a.max_differential, a.rating
    (0.125, 0.05, 0.061, 'low')
    """
    min_cell = check_min_cell(min_cell)
    if boundary not in ("cautious", "optimistic"):
        raise DataError(f"boundary must be 'cautious' or 'optimistic', got {boundary!r}")
    _require_columns(data, [arm, outcome])
    control = _arms(data, arm, treated)
    seen = data[outcome].notna()
    rows = []
    for level in (treated, control):
        mask = data[arm] == level
        n = int(mask.sum())
        k = int((seen & mask).sum())
        rows.append({"arm": str(level), "n_assigned": n, "n_analysed": k, "n_lost": n - k})
    total = {
        "arm": "overall",
        "n_assigned": sum(r["n_assigned"] for r in rows),
        "n_analysed": sum(r["n_analysed"] for r in rows),
        "n_lost": sum(r["n_lost"] for r in rows),
    }
    table = pd.DataFrame([*rows, total])
    table["attrition"] = table["n_lost"] / table["n_assigned"]
    overall = float(table["attrition"].iloc[2])
    differential = abs(float(table["attrition"].iloc[0] - table["attrition"].iloc[1]))
    pct = int(math.floor(overall * 100 + 0.5))
    limits = _boundary_table()[f"{boundary}_pct"]
    limit = float(limits.get(pct, math.nan)) / 100.0
    # the table's values have one decimal: compare in percentage points with a tolerance
    low = math.isfinite(limit) and differential * 100 <= limit * 100 + 1e-9
    small = [r for r in rows for key in ("n_analysed", "n_lost") if 0 < r[key] < min_cell]
    hidden = bool(min_cell) and bool(small)
    if hidden:
        table[["n_assigned", "n_analysed", "n_lost", "attrition"]] = np.nan
        overall = differential = math.nan
    return Attrition(
        table=table,
        overall=overall,
        differential=differential,
        boundary=boundary,
        max_differential=limit,
        rating=("suppressed" if hidden else ("low" if low else "high")),
        suppressed=hidden,
    )


# ------------------------------------------------------------------------------------------------
# multiplicity
# ------------------------------------------------------------------------------------------------
def benjamini_hochberg(p: pd.Series) -> pd.Series:
    """Benjamini-Hochberg adjusted p-values, aligned to ``p``, as R's ``p.adjust(p, "BH")``.

    Missing p-values stay missing and do not count among the tests (as ``p.adjust``).
    Computed by :func:`statsmodels.stats.multitest.multipletests` (``method="fdr_bh"``).

    Examples
    --------
    >>> benjamini_hochberg(pd.Series([0.01, 0.04, 0.03, None], index=list("abcd"))).round(3)
    a    0.03
    b    0.04
    c    0.04
    d     NaN
    Name: p_bh, dtype: float64
    """
    if not isinstance(p, pd.Series):
        raise DataError(f"p must be a pandas Series, got {type(p).__name__}")
    if not pd.api.types.is_numeric_dtype(p) or pd.api.types.is_bool_dtype(p):
        raise DataError(f"p must be numeric, got dtype {p.dtype}")
    values = p.to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(values)
    if ((values[ok] < 0) | (values[ok] > 1)).any():
        raise DataError("p-values must lie in [0, 1]")
    out = np.full(len(values), np.nan)
    if ok.any():
        out[ok] = multipletests(values[ok], method="fdr_bh")[1]
    return pd.Series(out, index=p.index, name="p_bh")


# ------------------------------------------------------------------------------------------------
# E-values
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EValue:
    """E-values of an estimate and of its interval limit nearest the null (:func:`e_value`)."""

    scale: str
    estimate: float
    rr: float
    rr_ci: tuple[float, float]
    e_value: float
    e_value_ci: float

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame."""
        return _scalar_frame(self)

    def _repr_html_(self) -> str:
        return _html("E-value", self.to_frame().T)


def _e(rr: float) -> float:
    rr = 1.0 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1.0))


def e_value(
    estimate: float,
    ci: tuple[float, float] | None = None,
    *,
    scale: Literal["rr", "hr", "or", "smd"],
    rare: bool | None = None,
) -> EValue:
    """E-value: the confounding strength needed to explain an estimate away.

    VanderWeele & Ding (2017, *Ann Intern Med* 167:268-274): for a risk ratio ``RR > 1``,
    ``E = RR + sqrt(RR (RR - 1))`` (for ``RR < 1`` use ``1 / RR``) is the smallest risk ratio
    that an unmeasured confounder would need with both the exposure and the outcome, beyond
    the measured covariates, to move the estimate to the null. For the interval, the same
    formula at the limit nearest the null, or 1 when the interval includes the null.
    Other scales are first turned into approximate risk ratios as in the paper: odds ratio
    ``sqrt(OR)`` and hazard ratio ``(1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1 / HR))`` for a common
    outcome (``rare=False``), the ratio itself for a rare one (``rare=True``, under 15 % by
    the end of follow-up); a standardised mean difference ``d`` as ``RR = exp(0.91 d)``, with
    the interval from its limits (``exp(0.91 * limit)``).

    Parameters
    ----------
    estimate
        Risk ratio, hazard ratio, odds ratio or standardised mean difference.
    ci
        Its confidence interval ``(lower, upper)``, or None.
    scale
        ``"rr"``, ``"hr"``, ``"or"`` or ``"smd"``.
    rare
        Whether the outcome is rare; required for ``"hr"`` and ``"or"``, not used otherwise.

    Returns
    -------
    EValue
        ``rr`` and ``rr_ci`` on the risk-ratio scale, ``e_value``, ``e_value_ci`` (NaN
        without ``ci``).

    Examples
    --------
    >>> round(e_value(3.9, (1.8, 8.7), scale="rr").e_value, 2)
    7.26
    >>> e_value(0.12, (0.01, 0.24), scale="smd").e_value_ci > 1
    True
    """
    if scale not in ("rr", "hr", "or", "smd"):
        raise DataError(f"scale must be 'rr', 'hr', 'or' or 'smd', got {scale!r}")
    if scale in ("hr", "or") and rare is None:
        raise DataError(f"scale={scale!r} needs rare=True or rare=False (is the outcome rare?)")
    values = [estimate, *(ci if ci is not None else ())]
    if not all(isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(v)
               for v in values):  # fmt: skip
        raise DataError("estimate and ci must be finite numbers")
    if ci is not None and (len(ci) != 2 or not ci[0] <= estimate <= ci[1]):
        raise DataError("ci must be (lower, upper) with lower <= estimate <= upper")
    if scale != "smd" and min(values) <= 0:
        raise DataError(f"a {scale.upper()} and its limits must be above 0")

    def to_rr(v: float) -> float:
        if scale == "smd":
            return math.exp(0.91 * v)
        if scale == "rr" or rare:
            return v
        if scale == "or":
            return math.sqrt(v)
        return (1 - 0.5 ** math.sqrt(v)) / (1 - 0.5 ** math.sqrt(1 / v))

    rr = to_rr(float(estimate))
    rr_ci = (math.nan, math.nan)
    e_ci = math.nan
    if ci is not None:
        rr_ci = (to_rr(float(ci[0])), to_rr(float(ci[1])))
        if rr_ci[0] <= 1 <= rr_ci[1]:
            e_ci = 1.0
        else:
            e_ci = _e(rr_ci[0] if rr > 1 else rr_ci[1])
    return EValue(
        scale=scale,
        estimate=float(estimate),
        rr=rr,
        rr_ci=rr_ci,
        e_value=_e(rr) if rr != 1 else 1.0,
        e_value_ci=e_ci,
    )


# ------------------------------------------------------------------------------------------------
# delta-adjusted multiple imputation (tipping point)
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TippingPoint:
    """Delta-adjusted imputation results (see :func:`tipping_point`)."""

    table: pd.DataFrame
    tipping_delta: float
    n: int
    n_imputed_treated: int
    n_imputed_control: int
    m: int
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """The table by delta."""
        return self.table

    def _repr_html_(self) -> str:
        return _html(f"Tipping point: delta {self.tipping_delta:g}", self.table)


def tipping_point(
    data: pd.DataFrame,
    outcome: str,
    *,
    baseline: str,
    arm: str = "arm",
    treated: object = "mentored",
    site: str = "site",
    auxiliary: Sequence[str] = (),
    deltas: Sequence[float],
    alpha: float = 0.05,
    m: int = 20,
    n_burnin: int = 10,
    seed: int,
) -> TippingPoint:
    """Delta-adjusted multiple imputation of a missing outcome in the treated arm.

    Missing follow-up scores are imputed under missing at random by chained equations
    (predictive mean matching, as :func:`tim_research.stats.outcomes.impute_and_pool`) from
    the treated indicator, the site indicators, ``baseline`` and the ``auxiliary`` columns
    (e.g. whether the match closed early, months matched, other waves). Then every imputed
    score in the treated arm is shifted by ``delta`` (treated youth who left the study did
    ``delta`` points worse than similar youth who stayed), the analysis of
    :func:`itt_effect` (ANCOVA with baseline and site fixed effects, at sites with both arms)
    is fitted to each completed data set, and the ``m`` fits are pooled by Rubin's rules
    (:func:`tim_research.stats.outcomes.pool_rubin`). ``delta = 0`` is the MAR analysis.
    The same imputations serve every delta, so the rows differ only by the shift.

    Parameters
    ----------
    data
        One row per assigned person; only rows at sites with both arms are used.
    outcome, baseline, arm, treated, site
        As for :func:`itt_effect`.
    auxiliary
        Numeric columns that predict the outcome or its missingness (imputed when missing).
    deltas
        Shifts in outcome units (negative = worse for a higher-is-better score).
    alpha
        Level at which the conclusion is read (the pooled ``p`` below ``alpha``).
    m, n_burnin, seed
        Imputations, iterations per chain, seed.

    Returns
    -------
    TippingPoint
        ``table`` by delta: ``delta``, ``estimate``, ``se``, ``ci_lower``, ``ci_upper``,
        ``p``, ``fmi`` and ``conclusion`` ("effect" or "no effect" at ``alpha``);
        ``tipping_delta``: the delta nearest 0 whose conclusion differs from delta 0's
        (NaN when none in the grid does).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"site": np.repeat(["a", "b"], 100),
    ...                   "arm": np.tile(["mentored", "comparison"], 100)})
    >>> d["pre"] = rng.normal(size=200)
    >>> d["post"] = d["pre"] + 0.6 * (d["arm"] == "mentored") + rng.normal(size=200)
    >>> d.loc[rng.random(200) < 0.3, "post"] = np.nan
    >>> tp = tipping_point(d, "post", baseline="pre", deltas=[0, -1, -2, -3], m=5, seed=1)
    >>> tp.table["conclusion"].iloc[0], tp.tipping_delta < 0
    ('effect', True)
    """
    auxiliary = [auxiliary] if isinstance(auxiliary, str) else list(auxiliary)
    _require_columns(data, [outcome, baseline, arm, site, *auxiliary])
    _require_numeric(data, [outcome, baseline, *auxiliary])
    if not 0 < alpha < 1:
        raise DataError(f"alpha must be in (0, 1), got {alpha}")
    grid = [float(d) for d in deltas]
    if not grid or not all(math.isfinite(d) for d in grid):
        raise DataError("deltas must be a non-empty list of finite numbers")
    if 0.0 not in grid:
        grid = [0.0, *grid]
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise DataError(f"m must be an integer of at least 2, got {m!r}")
    _arms(data, arm, treated)
    at_sites, kept, _ = _two_arm_sites(data, arm, site)
    part = data[at_sites]
    is_t = (part[arm] == treated).to_numpy(dtype=float)
    dummies, _names = _site_dummies(part[site], kept)
    cols = [part[c].to_numpy(dtype=float, na_value=np.nan) for c in [outcome, baseline, *auxiliary]]
    values = np.column_stack([is_t, dummies, *cols])
    if np.isnan(values).all(axis=0).any():
        raise DataError("a column is entirely missing at the two-arm sites; drop it")
    j_out = 1 + dummies.shape[1]
    j_base = j_out + 1
    miss_y = np.isnan(values[:, j_out])
    completed = _impute(values, m=int(m), n_burnin=int(n_burnin), seed=seed)
    shift = miss_y & (is_t == 1)
    rows = []
    for delta in sorted(set(grid), key=lambda v: (abs(v), v)):
        est, var = [], []
        for filled in completed:
            y = filled[:, j_out] + delta * shift
            x = np.column_stack([np.ones(len(y)), is_t, filled[:, j_base], dummies])
            params, bse, df_resid = _ols(y, x)
            est.append(params[1])
            var.append(bse[1] ** 2)
        pooled = pool_rubin(
            pd.DataFrame({"b": est}), pd.DataFrame({"b": var}), df_complete=float(df_resid)
        ).loc["b"]
        rows.append(
            {
                "delta": delta,
                "estimate": pooled["estimate"],
                "se": pooled["se"],
                "ci_lower": pooled["ci_lower"],
                "ci_upper": pooled["ci_upper"],
                "p": pooled["p"],
                "fmi": pooled["fmi"],
            }
        )
    table = pd.DataFrame(rows)
    table["conclusion"] = np.where(table["p"] < alpha, "effect", "no effect")
    base = table.loc[table["delta"] == 0.0, "conclusion"].iloc[0]
    flips = table[table["conclusion"] != base]
    tipping = float(flips["delta"].iloc[0]) if len(flips) else math.nan
    table = table.sort_values("delta", ascending=False, ignore_index=True)
    return TippingPoint(
        table=table,
        tipping_delta=tipping,
        n=len(part),
        n_imputed_treated=int(shift.sum()),
        n_imputed_control=int((miss_y & (is_t == 0)).sum()),
        m=int(m),
        seed=seed,
    )
