"""Programme outcomes: paired change, reliable change, ANCOVA, growth models and pooling.

Each function is checked against R (``tests/reference/psych_lme4_reference.R``):
:func:`paired_change` against ``t.test``/``wilcox.test``, :func:`compare_groups` against
``lm``, :func:`growth_model` against ``lme4::lmer`` and :func:`pool_rubin` against the formulas
of ``mice::pool``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import pandas as pd

from tim_research.errors import DataError

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
]

_MAX_SHOWN = 5


def _show(labels: Sequence[object]) -> str:
    labels = list(labels)
    text = ", ".join(repr(x) for x in labels[:_MAX_SHOWN])
    if len(labels) > _MAX_SHOWN:
        text += f" and {len(labels) - _MAX_SHOWN} more"
    return text


def _check_conf(conf_level: float) -> None:
    if not 0 < conf_level < 1:
        raise DataError(f"conf_level must be between 0 and 1, got {conf_level}")


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
    from scipy import stats

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
    from scipy import optimize, stats

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
        factor ``J = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2))``, ``df = n - 1``, and its
        interval is J times the d_z interval.

    Examples
    --------
    >>> import pandas as pd
    >>> pre = pd.Series([10.0, 12, 9, 14, 11, 13], index=list("fbdaec"))
    >>> post = pd.Series([12.0, 15, 9, 15, 14, 14], index=list("fbdaec"))
    >>> res = paired_change(pre, post)
    >>> round(res.mean_change, 3), res.df, res.wilcoxon_method
    (1.667, 5, 'normal approximation with continuity correction')
    """
    from scipy import stats

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
    j = math.exp(math.lgamma(df / 2) - math.lgamma((df - 1) / 2)) / math.sqrt(df / 2)
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
    from scipy import stats

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

    Fits ``outcome ~ group + baseline + covariates`` with statsmodels OLS, as R's
    ``lm(post ~ group + pre)``. Partial eta squared of the group term is
    ``SS_group / (SS_group + SS_residual)`` with the group's adjusted sum of squares (equal to
    ``t**2 / (t**2 + df)``). Adjusted means are predictions for each group with baseline and
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
    import statsmodels.api as sm
    from scipy import stats

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
    fit = sm.OLS(y, x).fit()
    df = int(fit.df_resid)
    if df < 1:
        raise DataError(f"{len(frame)} complete rows are too few for {len(names)} coefficients")
    tq = stats.t.ppf(1 - (1 - conf_level) / 2, df)
    params, bse = np.asarray(fit.params), np.asarray(fit.bse)
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


def _fixed_cov(
    x: np.ndarray, z: np.ndarray, groups: np.ndarray, g: np.ndarray, scale: float
) -> np.ndarray:
    """``(X' V^-1 X)^-1`` with ``V_i = Z_i G Z_i' + scale I`` (lme4's ``vcov``)."""
    order = np.argsort(groups, kind="stable")
    x, z, groups = x[order], z[order], groups[order]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    xtx = np.einsum("ni,nj->nij", x, x)
    xtz = np.einsum("ni,nj->nij", x, z)
    ztz = np.einsum("ni,nj->nij", z, z)
    sxx = np.add.reduceat(xtx, starts, axis=0).sum(axis=0)
    sxz = np.add.reduceat(xtz, starts, axis=0)
    szz = np.add.reduceat(ztz, starts, axis=0)
    q = z.shape[1]
    # push-through identity: V^-1 = (I - Z G (scale I + Z'Z G)^-1 Z') / scale
    inner = scale * np.eye(q)[None] + szz @ g
    corr = sxz @ g @ np.linalg.solve(inner, np.transpose(sxz, (0, 2, 1)))
    info = (sxx - corr.sum(axis=0)) / scale
    return np.linalg.inv(info)


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

    A statsmodels ``MixedLM`` fit of ``outcome ~ time + predictors`` with random effects
    ``1 + time`` (or ``1``) by ``subject``, the model of ``lme4::lmer(outcome ~ time +
    (time | subject))``. The two optimise the same (RE)ML criterion differently and stop at
    slightly different points of a flat surface: expect variance components to agree to about
    1e-4 relative and fixed effects much closer. Standard errors are those of lme4's
    ``vcov``, ``(X' V^-1 X)^-1`` at the estimated variances. p-values are Wald z tests
    (lme4 gives none; lmerTest would give Satterthwaite t tests, slightly larger p).

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
    import warnings

    import statsmodels.api as sm
    from scipy import stats

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
    model = sm.MixedLM(y, x, groups=groups, exog_re=z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(reml=reml, method="bfgs", gtol=1e-10)
        if not fit.converged:
            fit = model.fit(reml=reml, method="lbfgs")
    g = np.atleast_2d(np.asarray(fit.cov_re, dtype=float))
    scale = float(fit.scale)
    params = np.asarray(fit.fe_params, dtype=float)
    se = np.sqrt(np.diag(_fixed_cov(x, z, groups, g, scale)))
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
        converged=bool(fit.converged),
        reml=reml,
        log_likelihood=float(fit.llf),
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
    from scipy import stats

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

    statsmodels' ``MICEData`` imputes every column of ``data`` (predictive mean matching,
    each variable on all the others), ``n_burnin`` cycles before the first imputed data set
    and statsmodels' default skip between later ones; ``formula`` (patsy syntax, e.g.
    ``"JOBSAT3 ~ JOBSAT1 + AGE"``) is fitted by OLS to each of the ``m`` data sets and the
    results pooled by :func:`pool_rubin` with ``df_complete = n - p``. Pass only the
    columns the imputation model should use. The same ``seed`` gives the same result.

    Parameters
    ----------
    data
        Wide numeric data, one row per person (e.g. outcome waves as columns).
    formula
        Analysis model.
    m, n_burnin
        Number of imputed data sets and of burn-in cycles.
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
    import warnings

    import statsmodels.api as sm
    from statsmodels.imputation import mice

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    _require_numeric(data, list(data.columns))
    if not isinstance(m, (int, np.integer)) or m < 2:
        raise DataError(f"m must be an integer of at least 2, got {m!r}")
    empty = [c for c in data.columns if data[c].isna().all()]
    if empty:
        raise DataError(f"columns {_show(empty)} are entirely missing; drop them")
    if len(data) < 3:
        raise DataError(f"data has {len(data)} rows; imputation needs more")
    names = [str(c) for c in data.columns]
    work = pd.DataFrame(data.to_numpy(dtype=float, na_value=np.nan), columns=names)
    incomplete = int(work.isna().any(axis=1).sum())
    imp = mice.MICEData(work, rng=np.random.default_rng(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner = mice.MICE(formula, sm.OLS, imp)
        runner.fit(n_burnin=n_burnin, n_imputations=int(m))
    results = runner.results_list
    terms = list(results[0].model.exog_names)
    est = pd.DataFrame([np.asarray(r.params) for r in results], columns=terms)
    var = pd.DataFrame([np.asarray(r.bse) ** 2 for r in results], columns=terms)
    table = pool_rubin(est, var, df_complete=float(results[0].df_resid), conf_level=conf_level)
    return PooledFit(
        table=table, formula=formula, m=int(m), n=len(work), n_incomplete=incomplete, seed=seed
    )
