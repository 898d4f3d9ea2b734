"""Programme outcomes: paired change, reliable change, ANCOVA, growth models and pooling.

Each statistic is checked against R (``tests/reference/psych_lme4_reference.R`` and
``tests/reference/outcomes_extra_reference.R``): :func:`paired_change` against
``t.test``/``wilcox.test``, :func:`compare_groups` against ``lm`` (and its WWC effect size
against the handbook's formula), :func:`group_means` against ``t.test``, :func:`growth_model`
against ``lme4::lmer`` and :func:`pool_rubin` against the formulas of ``mice::pool``.
The report tables (:func:`group_means`, :func:`change_table`, :func:`compare_table`,
:func:`missing_data_sensitivity`) give one row per group or outcome for a notebook step, with
small groups suppressed where they show counts.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import pandas as pd
import patsy
from scipy import optimize, stats

from tim_research._checks import check_conf_level as _check_conf
from tim_research._checks import check_min_cell
from tim_research._checks import show_labels as _show
from tim_research.errors import DataError
from tim_research.instruments import load_instrument
from tim_research.privacy import suppression_mask
from tim_research.scoring import score
from tim_research.stats.psychometrics import reliability

__all__ = [
    "PairedChange",
    "paired_change",
    "ClinicalNorms",
    "ClinicalCutoffs",
    "clinical_cutoffs",
    "reliable_change",
    "GroupComparison",
    "compare_groups",
    "GrowthModel",
    "growth_model",
    "PooledFit",
    "pool_rubin",
    "impute_and_pool",
    "group_means",
    "change_table",
    "compare_table",
    "missing_data_sensitivity",
    "ChangeCriterion",
    "change_criterion",
]


def _scalar_frame(obj: object) -> pd.DataFrame:
    row = {}
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, tuple) and len(value) == 2 and f.name.endswith("_ci"):
            row[f"{f.name}_lower"], row[f"{f.name}_upper"] = value
        elif isinstance(value, (pd.DataFrame, pd.Series)):
            continue
        else:
            row[f.name] = value
    return pd.DataFrame([row])


def _html(title: str, frame: pd.DataFrame) -> str:
    return f"<div><strong>{html.escape(title)}</strong>{frame.to_html()}</div>"


def _require_columns(data: pd.DataFrame, columns: Sequence[str], what: str = "data") -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DataError(f"{what} has no column(s) {_show(missing)}; it has {_show(data.columns)}")


def _require_numeric(data: pd.DataFrame, columns: Sequence[str]) -> None:
    bad = [
        c
        for c in columns
        if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])
    ]
    if bad:
        kinds = ", ".join(f"{c!r} ({data[c].dtype})" for c in bad)
        raise DataError(f"columns must be numeric: {kinds}; convert them with pd.to_numeric")


def _as_float(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype=float, na_value=np.nan)


# ------------------------------------------------------------------------------------------------
# paired change
# ------------------------------------------------------------------------------------------------
def _aligned_pair(pre: pd.Series, post: pd.Series) -> tuple[pd.Series, pd.Series]:
    for name, s in (("pre", pre), ("post", post)):
        if not isinstance(s, pd.Series):
            raise DataError(f"{name} must be a pandas Series, got {type(s).__name__}")
        if s.index.has_duplicates:
            dup = s.index[s.index.duplicated()].unique()
            raise DataError(f"{name} has duplicated index labels {_show(dup)}; make ids unique")
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise DataError(f"{name} must be numeric, got dtype {s.dtype}")
    if not pre.index.equals(post.index):
        only_pre = pre.index.difference(post.index)
        only_post = post.index.difference(pre.index)
        if len(only_pre) or len(only_post):
            raise DataError(
                "pre and post must have the same index labels (one per person); only in pre: "
                f"{_show(only_pre)}; only in post: {_show(only_post)}"
            )
        post = post.reindex(pre.index)
    return pre, post


def _signrank_exact_p(v: float, n: int) -> float:
    """Two-sided exact p of the signed-rank statistic ``v`` (no ties), as R's psignrank."""
    top = n * (n + 1) // 2
    counts = np.zeros(top + 1)
    counts[0] = 1.0
    for i in range(1, n + 1):
        counts[i:] = counts[i:] + counts[: top + 1 - i]
    cdf = np.cumsum(counts) / 2.0**n
    if v > n * (n + 1) / 4:
        p = 1.0 - cdf[int(round(v)) - 1]
    else:
        p = cdf[int(round(v))]
    return min(2.0 * p, 1.0)


def _wilcoxon_signed_rank(d: np.ndarray) -> tuple[float, float, str]:
    """R's ``wilcox.test(x, y, paired=TRUE)`` with its defaults (``exact=NULL, correct=TRUE``)."""
    zeros = bool(np.any(d == 0))
    d = d[d != 0]
    n = d.size
    if n == 0:
        return math.nan, math.nan, "undefined (every difference is zero)"
    ranks = stats.rankdata(np.abs(d))
    v = float(ranks[d > 0].sum())
    _, tie_counts = np.unique(np.abs(d), return_counts=True)
    ties = bool(np.any(tie_counts > 1))
    if n < 50 and not ties and not zeros:
        return v, _signrank_exact_p(v, n), "exact"
    z = v - n * (n + 1) / 4.0
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0 - np.sum(tie_counts**3 - tie_counts) / 48.0)
    z = (z - math.copysign(0.5, z) if z != 0 else 0.0) / sigma
    p = 2.0 * min(stats.norm.cdf(z), stats.norm.sf(z))
    return v, float(p), "normal approximation with continuity correction"


def _dz_interval(dz: float, n: int, conf_level: float) -> tuple[float, float]:
    """Noncentral-t interval for d_z: the ncp values putting t_obs at the tail quantiles."""
    t_obs = dz * math.sqrt(n)
    df = n - 1
    g = (1.0 - conf_level) / 2.0

    def f(ncp: float, target: float) -> float:
        return float(stats.nct.cdf(t_obs, df, ncp)) - target

    def solve(target: float) -> float:
        # the cdf falls as ncp grows: step away from t_obs until the target is bracketed
        direction = -1.0 if f(t_obs, target) < 0 else 1.0
        near, step = t_obs, 1.0
        far = t_obs + direction * step
        while f(far, target) * direction > 0:
            near, step = far, step * 2.0
            far = t_obs + direction * step
        lo, hi = sorted((near, far))
        return optimize.brentq(f, lo, hi, args=(target,), xtol=1e-14, rtol=1e-14)

    return solve(1.0 - g) / math.sqrt(n), solve(g) / math.sqrt(n)


@dataclass(frozen=True)
class PairedChange:
    """Pre/post change of one group of people (see :func:`paired_change`).

    ``mean_change`` is post minus pre. ``t``, ``df``, ``p`` and the CI are those of
    ``t.test(post, pre, paired=TRUE)``; ``wilcoxon_v``/``wilcoxon_p`` those of
    ``wilcox.test(post, pre, paired=TRUE)`` with ``wilcoxon_method`` saying which p it is.
    """

    n: int
    n_dropped: int
    mean_change: float
    sd_change: float
    ci_lower: float
    ci_upper: float
    t: float
    df: int
    p: float
    wilcoxon_v: float
    wilcoxon_p: float
    wilcoxon_method: str
    cohens_dz: float
    cohens_dz_ci: tuple[float, float]
    hedges_gz: float
    hedges_gz_ci: tuple[float, float]
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame; intervals become ``<name>_lower``/``<name>_upper`` columns."""
        return _scalar_frame(self)

    def _repr_html_(self) -> str:
        return _html("Paired change (post - pre)", self.to_frame().T)


def paired_change(pre: pd.Series, post: pd.Series, *, conf_level: float = 0.95) -> PairedChange:
    """Mean pre/post change with paired t, Wilcoxon signed-rank and d_z / g_z effect sizes.

    Parameters
    ----------
    pre, post
        Numeric Series indexed by person. They must hold the same index labels (the order may
        differ; ``post`` is aligned to ``pre``). Pairs with either side missing are dropped and
        counted in ``n_dropped``.
    conf_level
        Coverage of the intervals.

    Returns
    -------
    PairedChange
        ``t``/``p``/CI as R's ``t.test(post, pre, paired=TRUE)``. ``wilcoxon_p`` as R's
        ``wilcox.test(post, pre, paired=TRUE)`` with its defaults: zero differences dropped;
        the exact null distribution when fewer than 50 non-zero differences remain and there
        are neither ties nor zeros, else the normal approximation with tie correction and
        continuity correction. ``cohens_dz = mean / sd`` of the differences with the
        noncentral-t interval (the ncp values for which the observed t is at the tail
        quantiles, divided by sqrt(n)); ``hedges_gz = J * cohens_dz`` with the exact small-sample
        factor ``J = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2))``, ``df = n - 1`` (NaN with
        two pairs, where J is undefined), and its interval is J times the d_z interval.

    Examples
    --------
    >>> import pandas as pd
    >>> pre = pd.Series([10.0, 12, 9, 14, 11, 13], index=list("fbdaec"))
    >>> post = pd.Series([12.0, 15, 9, 15, 14, 14], index=list("fbdaec"))
    >>> res = paired_change(pre, post)
    >>> round(res.mean_change, 3), res.df, res.wilcoxon_method
    (1.667, 5, 'normal approximation with continuity correction')
    """
    _check_conf(conf_level)
    pre, post = _aligned_pair(pre, post)
    x, y = _as_float(pre), _as_float(post)
    keep = ~np.isnan(x) & ~np.isnan(y)
    n = int(keep.sum())
    if n < 2:
        raise DataError(
            f"paired_change needs at least two complete pairs, got {n} ({int((~keep).sum())} "
            "pairs have a missing side)"
        )
    d = y[keep] - x[keep]
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    if not sd > 0:
        raise DataError("every pair changed by the same amount; the paired t-test is undefined")
    df = n - 1
    se = sd / math.sqrt(n)
    tq = stats.t.ppf(1 - (1 - conf_level) / 2, df)
    t = mean / se
    v, wp, method = _wilcoxon_signed_rank(d)
    dz = mean / sd
    lo, hi = _dz_interval(dz, n, conf_level)
    # J is undefined for one degree of freedom (Gamma(0)): g_z needs three pairs
    j = (
        math.exp(math.lgamma(df / 2) - math.lgamma((df - 1) / 2)) / math.sqrt(df / 2)
        if df > 1
        else math.nan
    )
    return PairedChange(
        n=n,
        n_dropped=int((~keep).sum()),
        mean_change=mean,
        sd_change=sd,
        ci_lower=mean - tq * se,
        ci_upper=mean + tq * se,
        t=t,
        df=df,
        p=float(2 * stats.t.sf(abs(t), df)),
        wilcoxon_v=v,
        wilcoxon_p=wp,
        wilcoxon_method=method,
        cohens_dz=dz,
        cohens_dz_ci=(lo, hi),
        hedges_gz=j * dz,
        hedges_gz_ci=(j * lo, j * hi),
        conf_level=conf_level,
    )


# ------------------------------------------------------------------------------------------------
# reliable change
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClinicalNorms:
    """Means and SDs of a dysfunctional (clinical) and a functional (community) sample."""

    dysfunctional_mean: float
    dysfunctional_sd: float
    functional_mean: float
    functional_sd: float


@dataclass(frozen=True)
class ClinicalCutoffs:
    """Jacobson & Truax (1991) cut-offs ``a``, ``b``, ``c`` (see :func:`clinical_cutoffs`)."""

    a: float
    b: float
    c: float
    higher_is_better: bool

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the cut-offs."""
        return _scalar_frame(self)

    def _repr_html_(self) -> str:
        return _html("Jacobson-Truax cut-offs", self.to_frame())


def _norms(norms: ClinicalNorms | Mapping[str, float]) -> ClinicalNorms:
    if isinstance(norms, ClinicalNorms):
        out = norms
    else:
        names = [f.name for f in fields(ClinicalNorms)]
        if not isinstance(norms, Mapping) or set(norms) != set(names):
            raise DataError(f"norms must be a ClinicalNorms or a mapping with keys {names}")
        out = ClinicalNorms(**{k: float(norms[k]) for k in names})
    for f in fields(out):
        v = getattr(out, f.name)
        if not math.isfinite(v) or (f.name.endswith("_sd") and not v > 0):
            raise DataError(f"norms.{f.name} must be a finite number (SDs above 0), got {v}")
    return out


def clinical_cutoffs(
    norms: ClinicalNorms | Mapping[str, float], *, higher_is_better: bool = True
) -> ClinicalCutoffs:
    """Jacobson & Truax cut-offs for clinically significant change.

    ``a``: two SDs beyond the dysfunctional mean, towards the functional side; ``b``: two SDs
    beyond the functional mean, towards the dysfunctional side; ``c``: the point between the
    two means weighted by the SDs, ``(sd_d * mean_f + sd_f * mean_d) / (sd_d + sd_f)``.

    Examples
    --------
    >>> cut = clinical_cutoffs({"dysfunctional_mean": 20, "dysfunctional_sd": 5,
    ...                         "functional_mean": 30, "functional_sd": 5})
    >>> cut.a, cut.b, cut.c
    (30.0, 20.0, 25.0)
    """
    nm = _norms(norms)
    sign = 1.0 if higher_is_better else -1.0
    a = nm.dysfunctional_mean + sign * 2 * nm.dysfunctional_sd
    b = nm.functional_mean - sign * 2 * nm.functional_sd
    c = (nm.dysfunctional_sd * nm.functional_mean + nm.functional_sd * nm.dysfunctional_mean) / (
        nm.dysfunctional_sd + nm.functional_sd
    )
    return ClinicalCutoffs(a=a, b=b, c=c, higher_is_better=higher_is_better)


_RC_CATEGORIES = ["reliably worse", "no reliable change", "reliably improved"]
_CLINICAL_CATEGORIES = ["deteriorated", "unchanged", "improved", "recovered"]


def reliable_change(
    pre: pd.Series,
    post: pd.Series,
    *,
    sd: float,
    reliability: float,
    higher_is_better: bool = True,
    norms: ClinicalNorms | Mapping[str, float] | None = None,
    cutoff: Literal["a", "b", "c"] = "c",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Jacobson-Truax reliable change index and, with norms, clinical significance.

    ``rci = (post - pre) / (sd * sqrt(2) * sqrt(1 - reliability))``; change is reliable when
    ``|rci|`` exceeds the normal quantile for ``conf_level`` (1.96 at 0.95). ``sd`` and
    ``reliability`` have no defaults so that the analysis records which were used (e.g. the
    baseline SD of a norm sample and the scale's alpha or test-retest r).

    Parameters
    ----------
    pre, post
        Numeric Series with the same index labels; the output keeps ``pre``'s index and
        order. Rows with a missing side get NaN/missing results.
    sd, reliability
        Standard deviation and reliability used for the standard error of the difference.
    higher_is_better
        Direction of improvement.
    norms
        Dysfunctional and functional means/SDs (:class:`ClinicalNorms` or a mapping) to add
        the ``clinical`` column: ``recovered`` (reliably improved and moved from the
        dysfunctional to the functional side of the cut-off), ``improved`` (other reliable
        improvement), ``unchanged``, ``deteriorated`` (reliably worse). The cut-offs are in
        ``result.attrs["cutoffs"]`` (see also :func:`clinical_cutoffs`).
    cutoff
        Which Jacobson-Truax cut-off defines the functional side (``"c"`` by default).
    conf_level
        Sets the critical |rci|.

    Returns
    -------
    pandas.DataFrame
        Columns ``change``, ``rci``, ``category`` (and ``clinical``), index of ``pre``.

    Examples
    --------
    >>> import pandas as pd
    >>> pre = pd.Series([10.0, 20, 15], index=["y3", "y1", "y2"])
    >>> post = pd.Series([18.0, 21, 8], index=["y3", "y1", "y2"])
    >>> reliable_change(pre, post, sd=5, reliability=0.8)["category"].tolist()
    ['reliably improved', 'no reliable change', 'reliably worse']
    """
    _check_conf(conf_level)
    for name, v in (("sd", sd), ("reliability", reliability)):
        if not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
            raise DataError(f"{name} must be a finite number, got {v!r}")
    if not sd > 0:
        raise DataError(f"sd must be above 0, got {sd}")
    if not 0 <= reliability < 1:
        raise DataError(f"reliability must be in [0, 1), got {reliability}")
    if cutoff not in ("a", "b", "c"):
        raise DataError(f"cutoff must be 'a', 'b' or 'c', got {cutoff!r}")
    pre, post = _aligned_pair(pre, post)
    x, y = _as_float(pre), _as_float(post)
    change = y - x
    rci = change / (sd * math.sqrt(2.0) * math.sqrt(1.0 - reliability))
    crit = stats.norm.ppf(1 - (1 - conf_level) / 2)
    better = rci > crit if higher_is_better else rci < -crit
    worse = rci < -crit if higher_is_better else rci > crit
    ok = ~np.isnan(rci)
    codes = np.where(better, 2, np.where(worse, 0, 1))
    codes[~ok] = -1
    out = pd.DataFrame(
        {
            "change": change,
            "rci": rci,
            "category": pd.Categorical.from_codes(codes, categories=_RC_CATEGORIES),
        },
        index=pre.index,
    )
    if norms is not None:
        cut = clinical_cutoffs(norms, higher_is_better=higher_is_better)
        value = getattr(cut, cutoff)
        if higher_is_better:
            crossed = (x < value) & (y >= value)
        else:
            crossed = (x > value) & (y <= value)
        clin = np.where(better, np.where(crossed, 3, 2), np.where(worse, 0, 1))
        clin[~ok] = -1
        out["clinical"] = pd.Categorical.from_codes(clin, categories=_CLINICAL_CATEGORIES)
        out.attrs["cutoffs"] = {"a": cut.a, "b": cut.b, "c": cut.c, "used": cutoff}
    return out


# ------------------------------------------------------------------------------------------------
# ANCOVA
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupComparison:
    """Baseline-adjusted difference between two groups (see :func:`compare_groups`)."""

    outcome: str
    group: str
    reference: object
    comparison: object
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    t: float
    df: int
    p: float
    partial_eta_sq: float
    hedges_g: float
    n: int
    n_dropped: int
    adjusted_means: pd.Series
    coefficients: pd.DataFrame
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with the adjusted difference and the adjusted means."""
        frame = _scalar_frame(self)
        for level, value in self.adjusted_means.items():
            frame[f"adjusted_mean[{level}]"] = value
        return frame

    def _repr_html_(self) -> str:
        return _html(f"{self.outcome}: {self.comparison} vs {self.reference}", self.to_frame().T)


def _wwc_g(difference: float, y: np.ndarray, in_comparison: np.ndarray) -> float:
    """WWC's Hedges' g of a (possibly adjusted) group difference, see :func:`compare_groups`."""
    a, b = y[~in_comparison], y[in_comparison]
    n = len(a) + len(b)
    if len(a) < 2 or len(b) < 2:
        return math.nan
    pooled = math.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (n - 2))
    return (1.0 - 3.0 / (4.0 * n - 9.0)) * difference / pooled if pooled > 0 else math.nan


def compare_groups(
    data: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    baseline: str,
    covariates: Sequence[str] = (),
    reference: object = None,
    conf_level: float = 0.95,
) -> GroupComparison:
    """ANCOVA of a follow-up outcome on two groups, adjusted for baseline (OLS).

    Fits ``outcome ~ group + baseline + covariates`` by least squares, as R's
    ``lm(post ~ group + pre)``. Partial eta squared of the group term is
    ``SS_group / (SS_group + SS_residual)`` with the group's adjusted sum of squares (equal to
    ``t**2 / (t**2 + df)``). ``hedges_g`` is the What Works Clearinghouse effect size for an
    adjusted difference (WWC Procedures and Standards Handbook, version 5.0, 2022):
    ``omega * estimate / s_pooled``, with ``s_pooled`` the pooled within-group SD of the
    unadjusted outcome and ``omega = 1 - 3 / (4 N - 9)``, both over the analysed rows.
    Adjusted means are predictions for each group with baseline and
    covariates at their means over the analysed rows.

    Parameters
    ----------
    data
        One row per person.
    outcome, group, baseline
        Column names; ``group`` must have exactly two levels among the analysed rows.
    covariates
        Further numeric adjustment columns.
    reference
        Level of ``group`` to compare against; default the first in sorted order.
    conf_level
        Coverage of the interval of the difference.

    Returns
    -------
    GroupComparison
        ``estimate`` is comparison minus reference. Rows with any missing value in the used
        columns are dropped and counted in ``n_dropped``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": [0, 0, 0, 1, 1, 1], "pre": [3.0, 4, 5, 3, 4, 5],
    ...                    "post": [3.5, 4.0, 5.5, 2.0, 3.5, 3.5]}, index=list("zyxwvu"))
    >>> round(compare_groups(df, outcome="post", group="arm", baseline="pre").estimate, 3)
    -1.333
    """
    _check_conf(conf_level)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    used = [outcome, group, baseline, *covariates]
    _require_columns(data, used)
    if len(set(used)) != len(used):
        raise DataError(f"outcome, group, baseline and covariates must differ, got {used}")
    _require_numeric(data, [outcome, baseline, *covariates])
    frame = data[used]
    complete = frame.notna().all(axis=1)
    if not complete.any():
        empty = [c for c in used if frame[c].isna().all()]
        raise DataError(
            "no row has every analysed column observed"
            + (f"; {_show(empty)} are entirely missing" if empty else "")
        )
    frame = frame[complete]
    levels = sorted(pd.unique(frame[group]).tolist(), key=lambda v: (str(type(v)), v))
    all_levels = pd.unique(data[group].dropna()).tolist()
    if len(levels) != 2:
        lost = [lv for lv in all_levels if lv not in levels]
        raise DataError(
            f"{group!r} must have exactly two groups among the complete rows, found "
            f"{_show(levels)}" + (f" (groups {_show(lost)} have no complete row)" if lost else "")
        )
    if reference is None:
        reference = levels[0]
    if reference not in levels:
        raise DataError(f"reference {reference!r} is not a level of {group!r}: {_show(levels)}")
    comparison = levels[1] if reference == levels[0] else levels[0]
    indicator = (frame[group] == comparison).astype(float)
    exog_cols = [baseline, *covariates]
    x = np.column_stack(
        [np.ones(len(frame)), indicator.to_numpy(), frame[exog_cols].to_numpy(dtype=float)]
    )
    names = ["Intercept", f"{group}[{comparison}]", *exog_cols]
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise DataError(
            f"the design {names} is collinear (a covariate is constant or duplicates another)"
        )
    y = frame[outcome].to_numpy(dtype=float)
    if len(y) <= x.shape[1]:
        raise DataError(f"{len(frame)} complete rows are too few for {len(names)} coefficients")
    params, bse, df = _ols(y, x)
    tq = stats.t.ppf(1 - (1 - conf_level) / 2, df)
    coef = pd.DataFrame(
        {
            "estimate": params,
            "se": bse,
            "t": params / bse,
            "p": 2 * stats.t.sf(np.abs(params / bse), df),
            "ci_lower": params - tq * bse,
            "ci_upper": params + tq * bse,
        },
        index=pd.Index(names, name="term"),
    )
    t = float(coef["t"].iloc[1])
    at = x.mean(axis=0)
    adjusted = {}
    for level, flag in ((reference, 0.0), (comparison, 1.0)):
        at[1] = flag
        adjusted[level] = float(at @ params)
    return GroupComparison(
        outcome=outcome,
        group=group,
        reference=reference,
        comparison=comparison,
        estimate=float(params[1]),
        se=float(bse[1]),
        ci_lower=float(coef["ci_lower"].iloc[1]),
        ci_upper=float(coef["ci_upper"].iloc[1]),
        t=t,
        df=df,
        p=float(coef["p"].iloc[1]),
        partial_eta_sq=t**2 / (t**2 + df),
        hedges_g=_wwc_g(float(params[1]), y, indicator.to_numpy(dtype=bool)),
        n=len(frame),
        n_dropped=int((~complete).sum()),
        adjusted_means=pd.Series(adjusted, name="adjusted_mean").rename_axis(group),
        coefficients=coef,
        conf_level=conf_level,
    )


# ------------------------------------------------------------------------------------------------
# growth models
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GrowthModel:
    """A linear mixed growth model (see :func:`growth_model`)."""

    fixed: pd.DataFrame
    variance: pd.Series
    n_obs: int
    n_subjects: int
    n_dropped: int
    converged: bool
    reml: bool
    log_likelihood: float
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """The fixed-effects table."""
        return self.fixed

    def _repr_html_(self) -> str:
        head = (
            f"Growth model: {self.n_obs} observations of {self.n_subjects} subjects "
            f"({'REML' if self.reml else 'ML'}, converged={self.converged})"
        )
        return _html(head, self.fixed) + _html("Variance components", self.variance.to_frame())


def _design(frame: pd.DataFrame, time: str, predictors: Sequence[str]) -> pd.DataFrame:
    parts = [pd.Series(1.0, index=frame.index, name="Intercept"), frame[time].astype(float)]
    for p in predictors:
        col = frame[p]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            parts.append(col.astype(float))
        else:
            dummies = pd.get_dummies(
                col.astype("category"), prefix=p, prefix_sep="[T.", dtype=float
            )
            dummies.columns = [f"{c}]" for c in dummies.columns]
            parts.append(dummies.iloc[:, 1:])
    return pd.concat(parts, axis=1)


class _ProfiledDeviance:
    """lme4's profiled (RE)ML deviance of a model with one block of random effects per subject.

    For relative covariance factor ``Lambda`` (lower triangular, parameters ``theta``), the
    random effects of subject ``i`` are ``N(0, sigma^2 Lambda Lambda')``. With
    ``A_i = Lambda' Z_i' Z_i Lambda + I``, ``W = (I + Z Lambda Lambda' Z')^-1`` (by the push-through
    identity, subject by subject), ``beta(theta)`` the GLS estimate and ``r^2`` the weighted
    residual sum of squares, the criterion (Bates et al. 2015, JSS 67(1), eqs. 34 and 41) is
    ``sum log|A_i| + n (1 + log(2 pi r^2 / n))`` for ML and
    ``sum log|A_i| + log|X' W X| + (n - p) (1 + log(2 pi r^2 / (n - p)))`` for REML. Only
    per-subject cross-products enter, so one evaluation costs O(subjects).
    """

    def __init__(
        self, x: np.ndarray, z: np.ndarray, y: np.ndarray, groups: np.ndarray, reml: bool
    ) -> None:
        order = np.argsort(groups, kind="stable")
        x, z, y, g = x[order], z[order], y[order], groups[order]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        self.ztz = np.add.reduceat(np.einsum("ni,nj->nij", z, z), starts, axis=0)
        self.ztx = np.add.reduceat(np.einsum("ni,nj->nij", z, x), starts, axis=0)
        self.zty = np.add.reduceat(z * y[:, None], starts, axis=0)
        self.xtx, self.xty, self.yty = x.T @ x, x.T @ y, float(y @ y)
        self.n, self.p = x.shape
        self.q = z.shape[1]
        self.df = self.n - self.p if reml else self.n
        self.reml = reml
        self.tril = np.tril_indices(self.q)

    def factor(self, theta: np.ndarray) -> np.ndarray:
        lam = np.zeros((self.q, self.q))
        lam[self.tril] = theta
        return lam

    def solve(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        """``sum log|A_i|``, ``X' W X``, ``beta`` and ``r^2`` at ``theta``."""
        lam = self.factor(theta)
        a = lam.T @ self.ztz @ lam + np.eye(self.q)
        # Cholesky factor and forward substitution, vectorised over subjects (q is 1 or 2)
        u = np.swapaxes(lam.T @ self.ztx, 0, 1)  # q x subjects x p
        v = (self.zty @ lam).T  # q x subjects
        chol = np.zeros((self.q, self.q, len(a)))
        cu = np.empty_like(u)
        cv = np.empty_like(v)
        for i in range(self.q):
            for j in range(i + 1):
                s = a[:, i, j] - (chol[i, :j] * chol[j, :j]).sum(axis=0)
                if i == j:
                    if not (s > 0).all():
                        raise np.linalg.LinAlgError("not positive definite")
                    chol[i, i] = np.sqrt(s)
                else:
                    chol[i, j] = s / chol[j, j]
            cu[i] = (u[i] - np.einsum("ks,ksp->sp", chol[i, :i], cu[:i])) / chol[i, i][:, None]
            cv[i] = (v[i] - (chol[i, :i] * cv[:i]).sum(axis=0)) / chol[i, i]
        logdet = 2.0 * float(sum(np.log(chol[i, i]).sum() for i in range(self.q)))
        cu = np.swapaxes(cu, 0, 1)
        cv = cv.T
        xwx = self.xtx - np.einsum("gki,gkj->ij", cu, cu)
        xwy = self.xty - np.einsum("gki,gk->i", cu, cv)
        ywy = self.yty - float(np.einsum("gk,gk->", cv, cv))
        beta = np.linalg.solve(xwx, xwy)
        return logdet, xwx, beta, ywy - float(beta @ xwy)

    def __call__(self, theta: np.ndarray) -> float:
        try:
            logdet, xwx, _, r2 = self.solve(theta)
        except np.linalg.LinAlgError:
            return math.inf
        if not r2 > 0:
            return math.inf
        dev = logdet + self.df * (1.0 + math.log(2.0 * math.pi * r2 / self.df))
        if self.reml:
            dev += float(np.linalg.slogdet(xwx)[1])
        return dev

    def fit(self) -> tuple[np.ndarray, bool]:
        """Minimise from lme4's start (``Lambda = I``): L-BFGS-B, then a Nelder-Mead polish."""
        start = np.eye(self.q)[self.tril]
        bounds = [(0.0, None) if i == j else (None, None) for i, j in zip(*self.tril, strict=True)]
        first = optimize.minimize(
            self,
            start,
            method="L-BFGS-B",
            bounds=bounds,
            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000},
        )
        polish = optimize.minimize(
            self,
            first.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20_000},
        )
        best = polish if polish.fun <= first.fun else first
        return np.asarray(best.x, dtype=float), bool(np.isfinite(best.fun) and polish.success)


def growth_model(
    long: pd.DataFrame,
    *,
    outcome: str,
    time: str,
    subject: str,
    predictors: Sequence[str] = (),
    random_slope: bool = True,
    reml: bool = True,
    conf_level: float = 0.95,
) -> GrowthModel:
    """Linear growth model with a random intercept (and slope) per subject.

    The model of ``lme4::lmer(outcome ~ time + predictors + (time | subject))`` (or
    ``(1 | subject)``), fitted the way lme4 fits it: the profiled (RE)ML deviance is minimised
    over the relative covariance factor of the random effects (Bates, Maechler, Bolker & Walker
    2015, *J Stat Softw* 67(1)), here by L-BFGS-B with a Nelder-Mead polish where lme4 uses
    BOBYQA. Both reach the same optimum of a flat surface to within about 1e-4 relative in the
    variance components and closer in the fixed effects. Standard errors are lme4's ``vcov``,
    ``sigma^2 (X' W X)^-1``. p-values are Wald z tests (lme4 gives none; lmerTest would give
    Satterthwaite t tests, slightly larger p).

    Parameters
    ----------
    long
        One row per subject and occasion.
    outcome, time, subject
        Column names; ``outcome`` and ``time`` numeric. Rows with a missing outcome, time
        or predictor are dropped and counted in ``n_dropped`` (as lmer's ``na.omit``).
    predictors
        Further fixed-effect columns (categorical ones are dummy coded, first level as
        reference).
    random_slope
        Random slope of ``time`` with its covariance with the intercept.
    reml
        REML (default, as lmer) or ML.
    conf_level
        Coverage of the Wald intervals.

    Returns
    -------
    GrowthModel
        ``fixed``: estimate, se, z, p, ci_lower, ci_upper by term. ``variance``:
        ``intercept_var``, ``slope_var``, ``intercept_slope_cov``, ``residual_var``.
        ``log_likelihood`` is lme4's ``logLik`` (minus half the deviance).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> ids = np.repeat(np.arange(30), 4)
    >>> t = np.tile(np.arange(4.0), 30)
    >>> y = 2 + 0.5 * t + rng.normal(size=30)[ids] + rng.normal(scale=0.5, size=120)
    >>> m = growth_model(pd.DataFrame({"id": ids, "t": t, "y": y}), outcome="y", time="t",
    ...                  subject="id", random_slope=False)
    >>> m.n_subjects, round(float(m.fixed.loc["t", "estimate"]), 1)
    (30, 0.5)
    """
    _check_conf(conf_level)
    predictors = [predictors] if isinstance(predictors, str) else list(predictors)
    used = [outcome, time, subject, *predictors]
    _require_columns(long, used, "long")
    _require_numeric(long, [outcome, time])
    if long[outcome].isna().all():
        raise DataError(f"outcome {outcome!r} is entirely missing")
    frame = long[used]
    complete = frame.notna().all(axis=1)
    frame = frame[complete]
    n_subjects = int(frame[subject].nunique())
    if n_subjects < 2:
        raise DataError(
            f"growth_model needs at least two subjects with observed {outcome!r}, got {n_subjects}"
        )
    if frame[time].nunique() < 2:
        raise DataError(f"{time!r} takes a single value; a growth model needs two or more")
    xdf = _design(frame, time, predictors)
    x = xdf.to_numpy(dtype=float)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise DataError(f"the fixed-effect design {list(xdf.columns)} is collinear")
    z = x[:, :2] if random_slope else x[:, :1]
    y = frame[outcome].to_numpy(dtype=float)
    groups = pd.factorize(frame[subject])[0]
    criterion = _ProfiledDeviance(x, z, y, groups, reml)
    theta, converged = criterion.fit()
    _, xwx, params, r2 = criterion.solve(theta)
    scale = r2 / criterion.df
    lam = criterion.factor(theta)
    g = scale * lam @ lam.T
    se = np.sqrt(np.diag(scale * np.linalg.inv(xwx)))
    zq = stats.norm.ppf(1 - (1 - conf_level) / 2)
    fixed = pd.DataFrame(
        {
            "estimate": params,
            "se": se,
            "z": params / se,
            "p": 2 * stats.norm.sf(np.abs(params / se)),
            "ci_lower": params - zq * se,
            "ci_upper": params + zq * se,
        },
        index=pd.Index(list(xdf.columns), name="term"),
    )
    variance = pd.Series(
        {
            "intercept_var": g[0, 0],
            "slope_var": g[1, 1] if random_slope else math.nan,
            "intercept_slope_cov": g[0, 1] if random_slope else math.nan,
            "residual_var": scale,
        },
        name="variance",
    )
    return GrowthModel(
        fixed=fixed,
        variance=variance,
        n_obs=len(frame),
        n_subjects=n_subjects,
        n_dropped=int((~complete).sum()),
        converged=converged,
        reml=reml,
        log_likelihood=-criterion(theta) / 2.0,
        conf_level=conf_level,
    )


# ------------------------------------------------------------------------------------------------
# multiple imputation
# ------------------------------------------------------------------------------------------------
def pool_rubin(
    estimates: pd.DataFrame,
    variances: pd.DataFrame,
    *,
    df_complete: float | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Pool estimates from ``m`` imputed data sets with Rubin's rules.

    ``W`` is the mean within-imputation variance, ``B`` the between-imputation variance of the
    estimates, total ``T = W + (1 + 1/m) B``. Degrees of freedom follow Barnard & Rubin (1999)
    as ``mice::pool``: ``lambda = (1 + 1/m) B / T``, ``df_old = (m - 1) / lambda**2``,
    ``df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lambda)`` and
    ``df = df_old * df_obs / (df_old + df_obs)``; without ``df_complete`` it is ``df_old``
    (Rubin 1987). ``riv = (1 + 1/m) B / W``, ``fmi = (riv + 2 / (df + 3)) / (1 + riv)``.

    Parameters
    ----------
    estimates, variances
        One row per imputation, one column per term: the estimates and their squared SEs.
    df_complete
        Residual degrees of freedom of the analysis without missing data (``n - p``).
    conf_level
        Coverage of the t intervals.

    Returns
    -------
    pandas.DataFrame
        By term: ``estimate``, ``se``, ``within``, ``between``, ``total``, ``riv``, ``lambda``,
        ``fmi``, ``df``, ``t``, ``p``, ``ci_lower``, ``ci_upper``.

    Examples
    --------
    >>> import pandas as pd
    >>> est = pd.DataFrame({"b": [1.0, 1.2, 0.8]})
    >>> var = pd.DataFrame({"b": [0.04, 0.05, 0.03]})
    >>> pool_rubin(est, var, df_complete=50).loc["b", ["estimate", "total"]].round(4).tolist()
    [1.0, 0.0933]
    """
    _check_conf(conf_level)
    for name, f in (("estimates", estimates), ("variances", variances)):
        if not isinstance(f, pd.DataFrame):
            raise DataError(f"{name} must be a DataFrame (imputations x terms)")
    if list(estimates.columns) != list(variances.columns) or estimates.shape != variances.shape:
        raise DataError("estimates and variances must have the same terms (columns) and rows")
    m = estimates.shape[0]
    if m < 2:
        raise DataError(f"pooling needs at least two imputations, got {m}")
    q = estimates.to_numpy(dtype=float)
    u = variances.to_numpy(dtype=float)
    if not (np.isfinite(q).all() and np.isfinite(u).all()) or (u < 0).any():
        raise DataError("estimates and variances must be finite, variances non-negative")
    if df_complete is not None and not df_complete > 0:
        raise DataError(f"df_complete must be above 0, got {df_complete}")
    qbar = q.mean(axis=0)
    w = u.mean(axis=0)
    b = q.var(axis=0, ddof=1)
    total = w + (1 + 1 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = (1 + 1 / m) * b / total
        riv = (1 + 1 / m) * b / w
        df_old = np.where(lam > 0, (m - 1) / lam**2, np.inf)
        if df_complete is None:
            df = df_old
        else:
            df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
            df = np.where(np.isinf(df_old), df_obs, df_old * df_obs / (df_old + df_obs))
        fmi = (riv + 2 / (df + 3)) / (1 + riv)
        se = np.sqrt(total)
        t = qbar / se
    tq = stats.t.ppf(1 - (1 - conf_level) / 2, df)
    return pd.DataFrame(
        {
            "estimate": qbar,
            "se": se,
            "within": w,
            "between": b,
            "total": total,
            "riv": riv,
            "lambda": lam,
            "fmi": fmi,
            "df": df,
            "t": t,
            "p": 2 * stats.t.sf(np.abs(t), df),
            "ci_lower": qbar - tq * se,
            "ci_upper": qbar + tq * se,
        },
        index=pd.Index(list(estimates.columns), name="term"),
    )


@dataclass(frozen=True)
class PooledFit:
    """An OLS model fitted to multiply imputed data and pooled (see :func:`impute_and_pool`)."""

    table: pd.DataFrame
    formula: str
    m: int
    n: int
    n_incomplete: int
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """The pooled coefficient table."""
        return self.table

    def _repr_html_(self) -> str:
        head = f"{self.formula}: {self.m} imputations, {self.n_incomplete} of {self.n} rows imputed"
        return _html(head, self.table)


def _usable_predictors(x_obs: np.ndarray, y_obs: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    """Which predictors (columns, intercept excluded) enter one imputation model.

    As mice's ``remove.lindep`` (eps 1e-4, maxcor 0.99): among the rows where the target is
    observed, a predictor that does not vary, or that correlates 0.99 or more with the
    target, is left out, then predictors are dropped one by one while the correlation matrix
    is near singular. Without this a predictor that is constant among the observed rows (say,
    no early closure at the sites analysed) makes the regression singular.
    """
    k = x_obs.shape[1]
    if k == 0 or len(y_obs) < 2 or np.var(y_obs, ddof=1) < eps:
        return np.zeros(k, dtype=bool)
    keep = np.var(x_obs, axis=0, ddof=1) > eps
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in np.flatnonzero(keep):
            if np.corrcoef(x_obs[:, j], y_obs)[0, 1] >= 0.99:
                keep[j] = False
    while keep.sum() > 1:
        idx = np.flatnonzero(keep)
        values, vectors = np.linalg.eigh(np.corrcoef(x_obs[:, idx], rowvar=False))
        # eigh sorts ascending: values[0] is the smallest, values[-1] the largest
        if values[0] / values[-1] >= eps:
            break
        keep[idx[np.argmax(np.abs(vectors[:, 0]))]] = False
    return keep


def _pmm_draw(
    x_obs: np.ndarray, y_obs: np.ndarray, x_mis: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One predictive-mean-matching draw (mice's ``mice.impute.pmm``, 5 donors, type 1).

    A Bayesian linear regression draw (van Buuren 2018, *Flexible Imputation of Missing Data*,
    Algorithm 3.1: ``sigma* = sqrt(RSS / chi2(n - p))``, ``beta* = beta_hat + sigma* C z`` with
    ``C C' = (X'X + ridge)^-1``, ridge ``1e-5 * diag(X'X)``), then Algorithm 3.3: each missing
    value takes the observed value of one of the 5 observed cases (picked at random) whose
    prediction ``X beta_hat`` is closest to its own prediction ``X beta*``.
    """
    # column 0 is the intercept; degenerate predictors are left out (mice's remove.lindep)
    cols = np.concatenate([[True], _usable_predictors(x_obs[:, 1:], y_obs)])
    x_obs, x_mis = x_obs[:, cols], x_mis[:, cols]
    n_obs, p = x_obs.shape
    xtx = x_obs.T @ x_obs
    v = np.linalg.inv(xtx + np.diag(1e-5 * np.diag(xtx)))
    v = (v + v.T) / 2.0
    coef = v @ (x_obs.T @ y_obs)
    resid = y_obs - x_obs @ coef
    sigma = math.sqrt(float(resid @ resid) / rng.chisquare(max(n_obs - p, 1)))
    beta = coef + sigma * (np.linalg.cholesky(v) @ rng.standard_normal(p))
    fit_obs = x_obs @ coef
    fit_mis = x_mis @ beta
    k = min(5, n_obs)
    out = np.empty(len(x_mis))
    for lo in range(0, len(x_mis), 2048):  # bounded memory on large data
        dist = np.abs(fit_mis[lo : lo + 2048, None] - fit_obs[None, :])
        near = np.argpartition(dist, k - 1, axis=1)[:, :k] if k < n_obs else np.argsort(dist, 1)
        pick = near[np.arange(len(near)), rng.integers(0, k, size=len(near))]
        out[lo : lo + 2048] = y_obs[pick]
    return out


def _impute(values: np.ndarray, *, m: int, n_burnin: int, seed: int) -> list[np.ndarray]:
    """``m`` completed copies of ``values`` by chained equations, each from its own chain.

    As ``mice(data, m, method = "pmm", maxit = n_burnin)``: missing cells start as random draws
    of the column's observed values; each iteration visits the incomplete columns left to right
    and imputes each from all other columns (:func:`_pmm_draw`).
    """
    rng = np.random.default_rng(seed)
    miss = np.isnan(values)
    visit = [j for j in range(values.shape[1]) if miss[:, j].any()]
    ones = np.ones((len(values), 1))
    out = []
    for _ in range(m):
        filled = values.copy()
        for j in visit:
            observed = values[~miss[:, j], j]
            filled[miss[:, j], j] = rng.choice(observed, size=int(miss[:, j].sum()))
        for _ in range(n_burnin):
            for j in visit:
                x = np.hstack([ones, np.delete(filled, j, axis=1)])
                mj = miss[:, j]
                filled[mj, j] = _pmm_draw(x[~mj], filled[~mj, j], x[mj], rng)
        out.append(filled)
    return out


def _ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """OLS coefficients, their standard errors and the residual df (via QR)."""
    q, r = np.linalg.qr(x)
    params = np.linalg.solve(r, q.T @ y)
    df = len(y) - x.shape[1]
    resid = y - x @ params
    r_inv = np.linalg.inv(r)
    cov = (float(resid @ resid) / df) * (r_inv @ r_inv.T)
    return params, np.sqrt(np.diag(cov)), df


def _check_imputation_args(data: pd.DataFrame, m: object, n_burnin: object) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    _require_numeric(data, list(data.columns))
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise DataError(f"m must be an integer of at least 2, got {m!r}")
    if isinstance(n_burnin, bool) or not isinstance(n_burnin, (int, np.integer)) or n_burnin < 1:
        raise DataError(f"n_burnin must be an integer of at least 1, got {n_burnin!r}")
    empty = [c for c in data.columns if data[c].isna().all()]
    if empty:
        raise DataError(f"columns {_show(empty)} are entirely missing; drop them")
    if len(data) < 3:
        raise DataError(f"data has {len(data)} rows; imputation needs more")


def impute_and_pool(
    data: pd.DataFrame,
    *,
    formula: str,
    m: int = 20,
    n_burnin: int = 10,
    seed: int,
    conf_level: float = 0.95,
) -> PooledFit:
    """Impute missing values by chained equations and pool an OLS fit with Rubin's rules.

    Every column of ``data`` with missing values is imputed from all the other columns by
    predictive mean matching, as R's ``mice(data, m, method = "pmm", maxit = n_burnin)``:
    ``m`` independent chains, each started from random draws of the observed values and run
    for ``n_burnin`` iterations (the algorithms are in van Buuren 2018, *Flexible Imputation
    of Missing Data*, 3.4 and 4.5). ``formula`` (patsy syntax, e.g. ``"JOBSAT3 ~ JOBSAT1 +
    AGE"``) is fitted by OLS to each completed data set and the results pooled by
    :func:`pool_rubin` with ``df_complete = n - p``. Pass only the columns the imputation model
    should use. The same ``seed`` gives the same result.

    Parameters
    ----------
    data
        Wide numeric data, one row per person (e.g. outcome waves as columns).
    formula
        Analysis model.
    m, n_burnin
        Number of imputed data sets and iterations of each chain.
    seed
        Seed of the imputation's random generator (required, so runs can be repeated).
    conf_level
        Coverage of the pooled intervals.

    Returns
    -------
    PooledFit

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> df = pd.DataFrame({"x": x, "y": 1 + 2 * x + rng.normal(size=200)})
    >>> df.loc[df.index[:40], "y"] = np.nan
    >>> fit = impute_and_pool(df, formula="y ~ x", m=5, seed=1)
    >>> fit.n_incomplete, round(fit.table.loc["x", "estimate"])
    (40, 2)
    """
    _check_conf(conf_level)
    _check_imputation_args(data, m, n_burnin)
    names = [str(c) for c in data.columns]
    values = data.to_numpy(dtype=float, na_value=np.nan)
    incomplete = int(np.isnan(values).any(axis=1).sum())
    completed = _impute(values, m=int(m), n_burnin=int(n_burnin), seed=seed)
    columns = {name: completed[0][:, j] for j, name in enumerate(names)}
    try:
        y0, x0 = patsy.dmatrices(formula, columns, NA_action="raise")
    except patsy.PatsyError as exc:
        raise DataError(
            f"formula {formula!r} cannot be evaluated on the columns {names}: {exc}"
        ) from exc
    terms = list(x0.design_info.column_names)
    estimates, variances = [], []
    for k, filled in enumerate(completed):
        if k == 0:
            y, x = np.asarray(y0)[:, 0], np.asarray(x0)
        else:
            cols = {name: filled[:, j] for j, name in enumerate(names)}
            ym, xm = patsy.build_design_matrices([y0.design_info, x0.design_info], cols)
            y, x = np.asarray(ym)[:, 0], np.asarray(xm)
        params, bse, df_resid = _ols(y, x)
        estimates.append(params)
        variances.append(bse**2)
    table = pool_rubin(
        pd.DataFrame(estimates, columns=terms),
        pd.DataFrame(variances, columns=terms),
        df_complete=float(df_resid),
        conf_level=conf_level,
    )
    return PooledFit(
        table=table, formula=formula, m=int(m), n=len(values), n_incomplete=incomplete, seed=seed
    )


# ------------------------------------------------------------------------------------------------
# tables for reports: one row per group or outcome
# ------------------------------------------------------------------------------------------------
def _hidden_groups(sizes: np.ndarray, min_cell: int) -> np.ndarray:
    """Groups whose size :func:`tim_research.privacy.suppression_mask` hides.

    The sizes form one column whose total (e.g. all complete pairs) is taken as known to
    readers, so a hidden size is never the total minus the shown ones.
    """
    sizes = np.asarray(sizes, dtype=float)
    if min_cell == 0 or sizes.size == 0:
        return np.zeros(sizes.size, dtype=bool)
    return suppression_mask(pd.DataFrame({"n": sizes}), min_cell=min_cell)["n"].to_numpy()


def _group_keys(data: pd.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    _require_columns(data, keys)
    return keys


def _groups(data: pd.DataFrame, keys: list[str]) -> list[tuple[dict[str, object], pd.DataFrame]]:
    """(labels, rows) per group with at least one row, in sorted (category) order."""
    if not keys:
        return [({}, data)]
    grouped = data.groupby(keys, observed=True, sort=True, dropna=False)
    return [(dict(zip(keys, k, strict=True)), part) for k, part in grouped]


def group_means(
    data: pd.DataFrame,
    *,
    value: str,
    by: str | Sequence[str] | None = None,
    min_cell: int = 5,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Mean of a numeric column per group with a t interval (e.g. scores by arm and wave).

    Parameters
    ----------
    data
        One row per observation.
    value
        Numeric column; missing values are left out and counted in ``n_missing``.
    by
        Group column(s); one row per combination present in ``data`` (categories in their
        order, other values sorted; a missing label is a group of its own).
    min_cell
        Groups with 1 to ``min_cell - 1`` observed values are masked: ``n``, ``n_missing``,
        ``mean``, ``sd``, ``se`` and the interval become NaN and ``suppressed`` is True.
        Further groups are masked as :func:`tim_research.privacy.suppression_mask` decides
        on the column of ``n`` per group, whose total is taken as known, so that no hidden
        ``n`` can be worked out from it. ``0`` shows everything.
    conf_level
        Coverage of ``mean +/- t(n - 1) * sd / sqrt(n)`` (R's ``t.test(x)$conf.int``).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``n``, ``n_missing``, ``mean``, ``sd``, ``se``, ``ci_lower``,
        ``ci_upper``, ``suppressed``.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["a", "a", "b", "b", "b"], "y": [1.0, 3, 2, 4, None]},
    ...                  index=[9, 7, 5, 3, 1])
    >>> group_means(d, value="y", by="arm", min_cell=0)[["arm", "n", "n_missing", "mean"]]
      arm    n  n_missing  mean
    0   a  2.0          0   2.0
    1   b  2.0          1   3.0
    """
    _check_conf(conf_level)
    min_cell = check_min_cell(min_cell)
    keys = _group_keys(data, by)
    _require_columns(data, [value])
    _require_numeric(data, [value])
    rows = []
    for labels, part in _groups(data[[*keys, value]], keys):
        x = _as_float(part[value])
        x = x[~np.isnan(x)]
        n = x.size
        mean = float(x.mean()) if n else math.nan
        sd = float(x.std(ddof=1)) if n > 1 else math.nan
        se = sd / math.sqrt(n) if n > 1 else math.nan
        half = float(stats.t.ppf(1 - (1 - conf_level) / 2, n - 1)) * se if n > 1 else math.nan
        rows.append(
            {
                **labels,
                "n": float(n),
                "n_missing": int(len(part) - n),
                "mean": mean,
                "sd": sd,
                "se": se,
                "ci_lower": mean - half,
                "ci_upper": mean + half,
            }
        )
    out = pd.DataFrame(rows)
    mask = _hidden_groups(out["n"].to_numpy(), min_cell)
    if mask.any():
        # with the group's size (published elsewhere) n_missing would give n back
        out["n_missing"] = out["n_missing"].astype(float)
        out.loc[mask, ["n", "n_missing", "mean", "sd", "se", "ci_lower", "ci_upper"]] = np.nan
    out["suppressed"] = mask
    for k in keys:
        if isinstance(data[k].dtype, pd.CategoricalDtype):
            out[k] = pd.Categorical(out[k], dtype=data[k].dtype)
    return out


def _pairs(pairs: Mapping[str, tuple[str, str]], what: str) -> list[tuple[str, str, str]]:
    if not isinstance(pairs, Mapping) or not pairs:
        raise DataError(
            f"{what} must be a non-empty mapping of label -> (baseline column, follow-up column)"
        )
    out = []
    for label, pair in pairs.items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise DataError(
                f"{what}[{label!r}] must be a (baseline column, follow-up column) pair, "
                f"got {pair!r}"
            )
        out.append((str(label), str(pair[0]), str(pair[1])))
    return out


def change_table(
    data: pd.DataFrame,
    *,
    pairs: Mapping[str, tuple[str, str]],
    by: str | None = None,
    min_cell: int = 5,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """:func:`paired_change` for several baseline/follow-up pairs and groups, one row each.

    Parameters
    ----------
    data
        Wide data, one row per person.
    pairs
        Label -> ``(baseline column, follow-up column)``, e.g.
        ``{"BRS 0-12 months": ("brs_score_baseline", "brs_score_12m")}``.
    by
        Optional group column (e.g. the arm): one row per label and group.
    min_cell
        Groups with 1 to ``min_cell - 1`` complete pairs are masked (statistics and ``n`` NaN,
        ``suppressed`` True), and further groups of the measure as
        :func:`tim_research.privacy.suppression_mask` decides (the measure's total number of
        complete pairs taken as known), so that no hidden ``n`` can be worked out. ``0``
        shows everything.
    conf_level
        Coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        ``measure``, the ``by`` column, then the columns of :meth:`PairedChange.to_frame`
        (``n``, ``mean_change`` with ``ci_lower``/``ci_upper``, ``p``, ``cohens_dz`` and
        ``hedges_gz`` with their intervals, Wilcoxon results, ...), ``suppressed`` and
        ``note`` (why a row has no statistics: fewer than two complete pairs, or every pair
        changed by the same amount).

    Examples
    --------
    >>> d = pd.DataFrame({"pre": [10.0, 12, 9, 14, 11, 13], "post": [12.0, 15, 9, 15, 14, 14]},
    ...                  index=list("fbdaec"))
    >>> t = change_table(d, pairs={"score": ("pre", "post")})
    >>> t.loc[0, "measure"], round(float(t.loc[0, "mean_change"]), 3)
    ('score', 1.667)
    """
    _check_conf(conf_level)
    min_cell = check_min_cell(min_cell)
    items = _pairs(pairs, "pairs")
    keys = _group_keys(data, by)
    _require_columns(data, [c for _, pre, post in items for c in (pre, post)])
    rows = []
    for label, pre, post in items:
        groups = _groups(data, keys)
        sizes = np.array([(p[pre].notna() & p[post].notna()).sum() for _, p in groups])
        mask = _hidden_groups(sizes, min_cell)
        for (labels, part), n, hide in zip(groups, sizes, mask, strict=True):
            row: dict[str, object] = {"measure": label, **labels}
            note = ""
            if hide:
                note = f"suppressed: fewer than min_cell={min_cell} complete pairs here or in "
                note += "another group (so that group cannot be worked out)"
            elif n < 2:
                note = f"fewer than two complete pairs ({n})"
            else:
                try:
                    row.update(
                        paired_change(part[pre], part[post], conf_level=conf_level)
                        .to_frame()
                        .iloc[0]
                        .to_dict()
                    )
                except DataError as exc:
                    if "same amount" not in str(exc):
                        raise
                    note = "every pair changed by the same amount"
            row["suppressed"] = bool(hide)
            if note:
                row["n"] = math.nan if hide else int(n)
            row["note"] = note
            rows.append(row)
    out = pd.DataFrame(rows)
    first = ["measure", *keys]
    return out[
        first
        + [c for c in out.columns if c not in first + ["suppressed", "note"]]
        + ["suppressed", "note"]
    ]


def compare_table(
    data: pd.DataFrame,
    *,
    outcomes: Mapping[str, tuple[str, str]],
    group: str,
    reference: object = None,
    covariates: Sequence[str] = (),
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """:func:`compare_groups` (ANCOVA) for several outcomes, one row each.

    Parameters
    ----------
    data
        Wide data, one row per person.
    outcomes
        Label -> ``(baseline column, follow-up column)``.
    group, reference, covariates, conf_level
        As for :func:`compare_groups`.
    min_cell
        When a group has 1 to ``min_cell - 1`` complete rows for an outcome (or
        :func:`tim_research.privacy.suppression_mask` hides its count to protect another
        group's), the outcome's row is masked: its counts and statistics are NaN, its adjusted
        means would describe a handful of youth. ``suppressed`` is True and ``note`` says why.
        ``0`` shows everything.

    Returns
    -------
    pandas.DataFrame
        ``measure``, ``group`` and ``versus`` (the compared level and the reference level),
        ``n``, ``n_dropped``, the adjusted means ``adjusted_mean_group`` and
        ``adjusted_mean_versus``, ``estimate`` (group minus versus), ``se``, ``ci_lower``,
        ``ci_upper``, ``t``, ``df``, ``p``, ``partial_eta_sq``, ``hedges_g``, ``suppressed``
        and ``note``. When the complete rows of an outcome hold a single group (e.g. a site
        without a comparison group) its statistics are NaN and ``note`` says so; any other
        problem raises.

    Examples
    --------
    >>> df = pd.DataFrame({"arm": ["c", "c", "c", "t", "t", "t"], "pre": [3.0, 4, 5, 3, 4, 5],
    ...                    "post": [3.5, 4.0, 5.5, 4.0, 5.5, 5.5]}, index=list("zyxwvu"))
    >>> t = compare_table(df, outcomes={"score": ("pre", "post")}, group="arm", min_cell=0)
    >>> t.loc[0, "group"], t.loc[0, "versus"], round(float(t.loc[0, "estimate"]), 3)
    ('t', 'c', 0.667)
    """
    min_cell = check_min_cell(min_cell)
    items = _pairs(outcomes, "outcomes")
    _require_columns(data, [group])
    rows = []
    for label, pre, post in items:
        row: dict[str, object] = {"measure": label, "suppressed": False}
        complete = data[[post, group, pre, *covariates]].notna().all(axis=1)
        levels = pd.unique(data.loc[complete, group]).tolist()
        if len(levels) < 2:
            row["note"] = (
                f"no comparison: the complete rows hold only {_show(levels) or 'no group'}"
            )
            rows.append(row)
            continue
        res = compare_groups(
            data,
            outcome=post,
            group=group,
            baseline=pre,
            covariates=covariates,
            reference=reference,
            conf_level=conf_level,
        )
        sizes = data.loc[complete, group].value_counts(sort=False).to_numpy()
        if _hidden_groups(sizes, min_cell).any():
            row.update(
                suppressed=True,
                note=f"suppressed: a group has fewer than min_cell={min_cell} complete rows, "
                "or its count would reveal such a group",
            )
            rows.append(row)
            continue
        row.update(
            group=res.comparison,
            versus=res.reference,
            n=res.n,
            n_dropped=res.n_dropped,
            adjusted_mean_group=res.adjusted_means[res.comparison],
            adjusted_mean_versus=res.adjusted_means[res.reference],
            estimate=res.estimate,
            se=res.se,
            ci_lower=res.ci_lower,
            ci_upper=res.ci_upper,
            t=res.t,
            df=res.df,
            p=res.p,
            partial_eta_sq=res.partial_eta_sq,
            hedges_g=res.hedges_g,
            note="",
        )
        rows.append(row)
    columns = [
        "measure", "group", "versus", "n", "n_dropped", "adjusted_mean_group",
        "adjusted_mean_versus", "estimate", "se", "ci_lower", "ci_upper", "t", "df", "p",
        "partial_eta_sq", "hedges_g", "suppressed", "note",
    ]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=columns)


def missing_data_sensitivity(
    data: pd.DataFrame,
    *,
    outcomes: Mapping[str, tuple[str, str]],
    group: str,
    reference: object = None,
    auxiliary: Sequence[str] = (),
    m: int = 20,
    n_burnin: int = 10,
    seed: int,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Baseline-adjusted group difference from complete cases and from multiple imputation.

    The complete-case row is :func:`compare_groups` (``follow-up ~ group + baseline``). For
    the imputed row, the group indicator (1 = comparison level), every baseline and follow-up
    column of ``outcomes`` and the ``auxiliary`` columns are imputed together by chained
    equations (predictive mean matching, as :func:`impute_and_pool`), the same ANCOVA is fitted
    to each of the ``m`` completed data sets and pooled by Rubin's rules (:func:`pool_rubin`).
    Similar answers suggest that missing waves do not drive the result, under the assumption
    that they are missing at random given the imputation columns; a difference is a reason
    for caution, not a correction.

    Parameters
    ----------
    data
        Wide data, one row per person who should have every wave (leave out people whose
        follow-up is not yet due: their follow-up is not missing).
    outcomes
        Label -> ``(baseline column, follow-up column)``.
    group
        Two-level group column; it must not be missing.
    reference
        Level of ``group`` to compare against (default: first in sorted order).
    auxiliary
        Further numeric columns that help predict the missing values (e.g. other waves,
        other scales, age). Missing values in them are imputed too.
    m, n_burnin, seed
        Number of imputations, iterations per chain, and the seed.
    conf_level
        Coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        Two rows per outcome, ``method`` "complete cases" and "multiple imputation":
        ``measure``, ``method``, ``n`` (rows analysed), ``n_imputed`` (rows whose baseline or
        follow-up was imputed), ``estimate``, ``se``, ``ci_lower``, ``ci_upper``, ``p``,
        ``fmi`` (fraction of missing information) and ``note`` (set, with NaN statistics, when
        the data hold a single group).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> arm = np.repeat(["c", "t"], 100)
    >>> pre = rng.normal(size=200)
    >>> post = pre + (arm == "t") + rng.normal(size=200)
    >>> post[rng.random(200) < 0.2] = np.nan
    >>> d = pd.DataFrame({"arm": arm, "pre": pre, "post": post})
    >>> t = missing_data_sensitivity(d, outcomes={"y": ("pre", "post")}, group="arm", m=5,
    ...                              seed=1)
    >>> t["method"].tolist(), [round(float(e)) for e in t["estimate"]]
    (['complete cases', 'multiple imputation'], [1, 1])
    """
    _check_conf(conf_level)
    items = _pairs(outcomes, "outcomes")
    auxiliary = [auxiliary] if isinstance(auxiliary, str) else list(auxiliary)
    waves = list(dict.fromkeys(c for _, pre, post in items for c in (pre, post)))
    _require_columns(data, [group, *waves, *auxiliary])
    _require_numeric(data, [*waves, *auxiliary])
    missing_group = data[group].isna().to_numpy()
    if missing_group.any():
        raise DataError(
            f"{group!r} is missing in rows {_show(data.index[missing_group])}; every row needs "
            "its group"
        )
    levels = sorted(pd.unique(data[group]).tolist(), key=lambda v: (str(type(v)), v))
    rows: list[dict[str, object]] = []
    if len(levels) < 2:
        note = f"no comparison: the data hold only {_show(levels) or 'no group'}"
        for label, _, _ in items:
            for method in ("complete cases", "multiple imputation"):
                rows.append({"measure": label, "method": method, "note": note})
        return _sensitivity_frame(rows)
    if len(levels) > 2:
        raise DataError(f"{group!r} must have two groups, found {_show(levels)}")
    if reference is None:
        reference = levels[0]
    if reference not in levels:
        raise DataError(f"reference {reference!r} is not a level of {group!r}: {_show(levels)}")
    comparison = levels[1] if reference == levels[0] else levels[0]
    frame = pd.DataFrame({"_group": (data[group] == comparison).to_numpy(dtype=float)})
    for c in [*waves, *auxiliary]:
        frame[c] = data[c].to_numpy(dtype=float, na_value=np.nan)
    _check_imputation_args(frame, m, n_burnin)
    completed = _impute(frame.to_numpy(), m=int(m), n_burnin=int(n_burnin), seed=seed)
    position = {c: j for j, c in enumerate(frame.columns)}
    for label, pre, post in items:
        cc = compare_groups(
            data, outcome=post, group=group, baseline=pre, reference=reference,
            conf_level=conf_level,
        )  # fmt: skip
        rows.append(
            {
                "measure": label,
                "method": "complete cases",
                "n": cc.n,
                "n_imputed": 0,
                "estimate": cc.estimate,
                "se": cc.se,
                "ci_lower": cc.ci_lower,
                "ci_upper": cc.ci_upper,
                "p": cc.p,
                "fmi": math.nan,
                "note": "",
            }
        )
        est, var = [], []
        for filled in completed:
            x = np.column_stack(
                [np.ones(len(filled)), filled[:, position["_group"]], filled[:, position[pre]]]
            )
            params, bse, df_resid = _ols(filled[:, position[post]], x)
            est.append(params[1])
            var.append(bse[1] ** 2)
        pooled = pool_rubin(
            pd.DataFrame({"b": est}),
            pd.DataFrame({"b": var}),
            df_complete=float(df_resid),
            conf_level=conf_level,
        ).loc["b"]
        rows.append(
            {
                "measure": label,
                "method": "multiple imputation",
                "n": len(frame),
                "n_imputed": int((frame[pre].isna() | frame[post].isna()).sum()),
                "estimate": pooled["estimate"],
                "se": pooled["se"],
                "ci_lower": pooled["ci_lower"],
                "ci_upper": pooled["ci_upper"],
                "p": pooled["p"],
                "fmi": pooled["fmi"],
                "note": f"{int(m)} imputations, seed {seed}",
            }
        )
    return _sensitivity_frame(rows)


def _sensitivity_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    columns = [
        "measure", "method", "n", "n_imputed", "estimate", "se", "ci_lower", "ci_upper", "p",
        "fmi", "note",
    ]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=columns)


# ------------------------------------------------------------------------------------------------
# the inputs of reliable change
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChangeCriterion:
    """SD and reliability behind a reliable change index (see :func:`change_criterion`)."""

    instrument: str
    scale: str
    sd: float
    reliability: float
    n_sd: int
    n_reliability: int
    se_difference: float
    critical_change: float
    conf_level: float
    reliability_kind: str = "alpha"

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame."""
        return _scalar_frame(self)

    def _repr_html_(self) -> str:
        return _html("Reliable change criterion", self.to_frame().T)


def _retest_reliability(
    retest: float | tuple[pd.Series, pd.Series],
) -> tuple[float, int, str]:
    """Reliability, its n and its kind from a published value or two waves of scores."""
    if isinstance(retest, (int, float, np.floating, np.integer)) and not isinstance(retest, bool):
        value = float(retest)
        if not 0 <= value < 1:
            raise DataError(f"a published retest reliability must be in [0, 1), got {value}")
        return value, 0, "published retest"
    if not (isinstance(retest, tuple) and len(retest) == 2):
        raise DataError(
            "retest must be a published reliability (a number) or a (first, second) pair of "
            "score Series of people not expected to change between the two occasions"
        )
    first, second = _aligned_pair(*retest)
    x, y = _as_float(first), _as_float(second)
    keep = ~np.isnan(x) & ~np.isnan(y)
    n = int(keep.sum())
    if n < 3:
        raise DataError(f"the retest correlation needs at least three complete pairs, got {n}")
    r = float(np.corrcoef(x[keep], y[keep])[0, 1])
    if not 0 <= r < 1:
        raise DataError(f"the retest correlation is {r:.3f}; a reliability must be in [0, 1)")
    return r, n, "retest correlation"


def _leaf_items(scales: Mapping[str, object], scale_id: str) -> list[str]:
    """Item ids of a scale, following scales built from other scales down to their items."""
    scale = scales[scale_id]
    if scale.items:  # type: ignore[attr-defined]
        return list(scale.items)  # type: ignore[attr-defined]
    return [i for s in scale.scales for i in _leaf_items(scales, s)]  # type: ignore[attr-defined]


def change_criterion(
    items: pd.DataFrame,
    *,
    instrument: str,
    scale: str = "score",
    retest: float | tuple[pd.Series, pd.Series] | None = None,
    conf_level: float = 0.95,
) -> ChangeCriterion:
    """SD and reliability (alpha or retest) of a scale in a sample, for :func:`reliable_change`.

    The scale is scored with the instrument's rules (:func:`tim_research.scoring.score`) and
    ``sd`` is the SD of those scores; ``reliability`` is Cronbach's alpha of the scale's items
    in the same rows (:func:`tim_research.stats.psychometrics.reliability`, reverse keys and
    response range from the instrument). Using the sample's own baseline SD and alpha is one choice
    among several (published norms, test-retest reliability): the returned object records it.
    ``se_difference = sd * sqrt(2 * (1 - reliability))`` and ``critical_change`` is the
    smallest change in score units that counts as reliable at ``conf_level`` (1.96 times it
    at 0.95), as in Jacobson & Truax (1991).

    Alpha measures agreement between items on one occasion and ignores how much a score
    moves from one occasion to the next without any real change; a change criterion built
    on it calls too many changes reliable. With ``retest`` the reliability is instead a
    test-retest correlation: either a published value, or the Pearson correlation between two
    waves of ``(first, second)`` scores of people not expected to change in between (e.g. the
    comparison group's baseline and 6-month scores). ``reliability_kind`` records which.

    Parameters
    ----------
    items
        Item responses of one occasion (usually baseline), one row per person.
    instrument
        Instrument id, e.g. ``"brs"``.
    scale
        Scale id within the instrument (``"score"`` is the main score).
    retest
        None (Cronbach's alpha of ``items``), a published test-retest reliability, or a pair
        of score Series with the same index (pairs with a missing side are left out;
        ``n_reliability`` counts the complete pairs).
    conf_level
        Sets the critical change.

    Examples
    --------
    >>> from tim_research import synth
    >>> from tim_research.views.tables import baseline_items
    >>> c = change_criterion(baseline_items(synth.program(n_youth=80, seed=2), "brs"),
    ...                      instrument="brs")
    >>> c.scale, 0 < c.reliability < 1, c.n_sd <= 80
    ('score', True, True)
    >>> change_criterion(baseline_items(synth.program(n_youth=80, seed=2), "brs"),
    ...                  instrument="brs", retest=0.7).reliability_kind
    'published retest'
    """
    _check_conf(conf_level)
    inst = load_instrument(instrument)
    scales = {s.id: s for s in inst.scales}
    if scale not in scales:
        raise DataError(f"{instrument} has no scale {scale!r}; its scales are {list(scales)}")
    by_id = {i.id: i for i in inst.items}
    ids = _leaf_items(scales, scale)
    _require_columns(items, ids, "items")
    column = inst.scale_column(scale)
    scores = score(items[ids], inst)[column]
    values = pd.DataFrame({i: items[i].map(inst.item_values(by_id[i])).astype(float) for i in ids})
    lows, highs = zip(*(inst.value_range(by_id[i]) for i in ids), strict=True)
    if len(set(lows)) > 1 or len(set(highs)) > 1:
        raise DataError(f"{instrument} {scale}: items have different response ranges")
    rel = reliability(
        values,
        reverse=[i for i in ids if by_id[i].reverse],
        min_value=lows[0],
        max_value=highs[0],
    )
    sd = float(scores.std(ddof=1))
    value, n_rel, kind = float(rel.alpha), int(rel.n), "alpha"
    if retest is not None:
        value, n_rel, kind = _retest_reliability(retest)
    se_diff = sd * math.sqrt(2.0 * (1.0 - value))
    z = float(stats.norm.ppf(1 - (1 - conf_level) / 2))
    return ChangeCriterion(
        instrument=instrument,
        scale=scale,
        sd=sd,
        reliability=value,
        n_sd=int(scores.notna().sum()),
        n_reliability=n_rel,
        se_difference=se_diff,
        critical_change=z * se_diff,
        conf_level=conf_level,
        reliability_kind=kind,
    )
