"""Reliability of scales: Cronbach's alpha, omega total, item statistics and ICCs.

Every number here is checked against R's ``psych`` package (see
``tests/reference/psych_lme4_reference.R``):

* :func:`reliability` and :func:`item_statistics` follow ``psych::alpha(x, keys=...,
  check.keys=FALSE)``: pairwise-complete covariances, ``cov2cor`` of them for the standardised
  statistics, and Feldt's interval for alpha;
* ``omega_total`` follows ``psych::omega(x, nfactors=1)$omega.tot``: a one-factor minimum
  residual (unweighted least squares) fit to the pairwise-complete correlations;
* :func:`icc` gives the six Shrout & Fleiss forms of ``psych::ICC(x, lmer=FALSE)``.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import least_squares

from tim_research._checks import show_labels as _show
from tim_research.errors import DataError, ReliabilityWarning

__all__ = [
    "GroupReliability",
    "Reliability",
    "group_icc",
    "icc",
    "item_statistics",
    "reliability",
]

_MAX_SHOWN = 5
# Smallest eigenvalue, relative to the largest, below which a matrix is taken as not positive
# semidefinite: rounding in complete data stays near 1e-15, a real defect is far larger.
_PSD_TOL = 1e-8


def _html_table(title: str, frame: pd.DataFrame) -> str:
    return f"<div><strong>{html.escape(title)}</strong>{frame.to_html()}</div>"


# ------------------------------------------------------------------------------------------------
# input checks
# ------------------------------------------------------------------------------------------------
def _numeric_items(
    items: pd.DataFrame,
    *,
    reverse: Sequence[str],
    min_value: float | None,
    max_value: float | None,
) -> tuple[np.ndarray, list[str]]:
    """Check item data and return them as a float array, reversed where asked."""
    if not isinstance(items, pd.DataFrame):
        raise DataError(
            f"items must be a pandas DataFrame with one column per item, got {type(items).__name__}"
        )
    names = [str(c) for c in items.columns]
    if items.columns.has_duplicates:
        dup = items.columns[items.columns.duplicated()].unique().tolist()
        raise DataError(f"items has duplicated column names {_show(dup)}; rename them")
    if items.shape[1] < 2:
        raise DataError(
            f"items has {items.shape[1]} column(s) ({_show(names)}); reliability needs at least "
            "two items"
        )
    bad = [
        c
        for c in items.columns
        if not (
            pd.api.types.is_numeric_dtype(items[c]) and not pd.api.types.is_bool_dtype(items[c])
        )
    ]
    if bad:
        kinds = ", ".join(f"{c!r} ({items[c].dtype})" for c in bad[:_MAX_SHOWN])
        raise DataError(
            f"items has non-numeric columns: {kinds}; recode responses to numbers "
            "(e.g. with tim_research.score or pd.to_numeric) first"
        )
    x = items.to_numpy(dtype=float, na_value=np.nan, copy=True)
    if np.isinf(x).any():
        cols = [names[j] for j in np.flatnonzero(np.isinf(x).any(axis=0))]
        raise DataError(f"items {_show(cols)} hold infinite values; set them to NaN or fix them")
    empty = [names[j] for j in np.flatnonzero(np.isnan(x).all(axis=0))]
    if empty:
        raise DataError(f"items {_show(empty)} have no answers at all (every value is missing)")
    reverse = [reverse] if isinstance(reverse, str) else list(reverse)
    unknown = [r for r in reverse if r not in items.columns]
    if unknown:
        raise DataError(
            f"reverse names {_show(unknown)}, which are not columns of items ({_show(names)})"
        )
    if reverse and (min_value is None or max_value is None):
        raise DataError(
            f"reverse={_show(reverse)} needs the response range: pass min_value= and max_value= "
            "(e.g. min_value=1, max_value=6), so that x becomes min_value + max_value - x"
        )
    if (min_value is None) != (max_value is None):
        raise DataError("pass both min_value and max_value, or neither")
    if min_value is not None and max_value is not None:
        if not min_value < max_value:
            raise DataError(f"min_value ({min_value}) must be below max_value ({max_value})")
        outside = (x < min_value) | (x > max_value)
        if outside.any():
            parts = []
            for j in np.flatnonzero(outside.any(axis=0))[:_MAX_SHOWN]:
                rows = items.index[outside[:, j]]
                vals = np.unique(x[outside[:, j], j])
                parts.append(f"{names[j]!r} has {_show(vals.tolist())} (rows {_show(rows)})")
            raise DataError(
                f"values outside {min_value}-{max_value}: " + "; ".join(parts) + "; recode them "
                "or set them to NaN"
            )
        for r in reverse:
            j = items.columns.get_loc(r)
            x[:, j] = min_value + max_value - x[:, j]
    return x, names


def _pairwise_moments(x: np.ndarray, *, block_rows: int = 65_536) -> dict[str, np.ndarray]:
    """Pairwise-complete covariance and correlation matrices of the columns of ``x``.

    Uses masked matrix products over blocks of rows, so it costs a few BLAS calls whatever the
    missing pattern: for columns i, j and the rows where both are observed, ``N`` counts the
    rows, ``S[i, j]`` sums x_i, ``Q[i, j]`` sums x_i**2 and ``P[i, j]`` sums x_i * x_j. Columns
    are shifted by a rough centre first for accuracy (covariances do not depend on the shift).
    """
    n_rows, k = x.shape
    head = x[:block_rows]
    head_n = (~np.isnan(head)).sum(axis=0)
    shift = np.nansum(head, axis=0) / np.maximum(head_n, 1)
    for j in np.flatnonzero(head_n == 0):
        col = x[:, j]
        shift[j] = col[~np.isnan(col)].mean()
    p = np.zeros((k, k))
    sqm = np.zeros((3 * k, k))
    n_any = 0
    for start in range(0, n_rows, block_rows):
        xc = x[start : start + block_rows] - shift
        observed = ~np.isnan(xc)
        n_any += int(observed.any(axis=1).sum())
        xc[~observed] = 0.0
        m = observed.astype(float)
        a = np.concatenate([xc, xc * xc, m], axis=1)
        sqm += a.T @ m
        p += xc.T @ xc
    s, q, counts = sqm[:k], sqm[k : 2 * k], sqm[2 * k :]
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = p - s * s.T / counts
        cov = cross / (counts - 1.0)
        ss_i = q - s * s / counts
        cor = cross / np.sqrt(ss_i * ss_i.T)
    np.fill_diagonal(cor, 1.0)
    n_obs = np.diag(counts).copy()
    return {
        "cov": cov,
        "cor": cor,
        "counts": counts,
        "n_obs": n_obs,
        "mean": shift + np.diag(s) / n_obs,
        "n_any": np.array(n_any),
    }


def _check_pairs(mom: dict[str, np.ndarray], names: list[str]) -> None:
    cov = mom["cov"]
    var = np.diag(cov)
    flat = [names[j] for j in np.flatnonzero(~(var > 0))]
    if flat:
        raise DataError(
            f"items {_show(flat)} have no variance (every answer is the same), so alpha and the "
            "item correlations are undefined; drop them from the scale"
        )
    few = np.argwhere(np.triu(mom["counts"] < 2, 1))
    if len(few):
        pairs = [f"{names[i]!r} & {names[j]!r}" for i, j in few[:_MAX_SHOWN]]
        raise DataError(
            "these item pairs are answered together in fewer than 2 rows, so their covariance "
            f"is undefined: {', '.join(pairs)}"
        )


def _not_psd(m: np.ndarray) -> bool:
    """Whether a symmetric matrix has an eigenvalue clearly below zero (see ``_PSD_TOL``)."""
    if not np.isfinite(m).all():
        return False
    w = np.linalg.eigvalsh(m)
    return bool(w[0] < -_PSD_TOL * max(abs(w[-1]), np.finfo(float).tiny))


def _not_psd_message(matrices: str, affected: str) -> str:
    """Warning text for pairwise-complete matrices that are not positive semidefinite."""
    return (
        f"the pairwise-complete item {matrices} not positive semidefinite: with few "
        "respondents and scattered missing answers each pair of items comes from different "
        "rows and the pairs are not consistent with one another, so "
        f"{affected} are not trustworthy (they can exceed 1); compute them on the respondents "
        "who answered every item (listwise deletion: items.dropna()) or collect more complete "
        "answers"
    )


def _alpha_from_cov(c: np.ndarray) -> float:
    k = c.shape[0]
    return (1.0 - np.trace(c) / c.sum()) * k / (k - 1.0)


def _minres_one_factor(r: np.ndarray) -> np.ndarray:
    """Loadings of a one-factor minimum residual (ULS on off-diagonal) fit to correlations."""
    k = r.shape[0]
    iu = np.triu_indices(k, 1)
    # start: a few principal-axis iterations from squared multiple correlations
    if not np.isfinite(r).all():
        return np.full(k, np.nan)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            h2 = 1.0 - 1.0 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        h2 = np.full(k, 0.5)
    # a (near-)singular R gives infinite or out-of-range communalities; they are only a start
    h2 = np.where(np.isfinite(h2), np.clip(h2, 0.0, 1.0), 0.5)
    lam = np.sqrt(h2)
    for _ in range(50):
        rr = r.copy()
        np.fill_diagonal(rr, h2)
        try:
            w, v = np.linalg.eigh(rr)
        except np.linalg.LinAlgError:  # the start is only a start: go on from the last one
            break
        lam = v[:, -1] * np.sqrt(max(w[-1], 0.0))
        h2 = lam**2

    def resid(v: np.ndarray) -> np.ndarray:
        return r[iu] - (v[:, None] * v[None, :])[iu]

    def jac(v: np.ndarray) -> np.ndarray:
        out = np.zeros((len(iu[0]), k))
        rows = np.arange(len(iu[0]))
        out[rows, iu[0]] = -v[iu[1]]
        out[rows, iu[1]] = -v[iu[0]]
        return out

    fit = least_squares(resid, lam, jac=jac, xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=1000)
    lam = fit.x
    if lam.sum() < 0:
        lam = -lam
    return lam


# ------------------------------------------------------------------------------------------------
# reliability
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reliability:
    """Internal consistency of one scale (see :func:`reliability`).

    Attributes
    ----------
    alpha, std_alpha, average_r
        Raw and standardised Cronbach's alpha and the mean inter-item correlation, as
        ``psych::alpha`` gives them (``raw_alpha``, ``std.alpha``, ``average_r``).
    alpha_ci
        Feldt interval ``(lower, upper)`` for alpha at ``conf_level``; ``(nan, nan)`` when it is
        undefined or would come out inverted (see :func:`reliability`).
    omega_total
        McDonald's omega total from a one-factor minres model (``psych::omega(x, 1)``).
    n
        Rows with at least one answered item (used for the Feldt interval).
    k
        Number of items.
    """

    alpha: float
    std_alpha: float
    average_r: float
    alpha_ci: tuple[float, float]
    omega_total: float
    n: int
    k: int
    conf_level: float
    items: tuple[str, ...]
    reversed_items: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the statistics, with the interval as two columns."""
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        lower, upper = row.pop("alpha_ci")
        row["items"] = ", ".join(self.items)
        row["reversed_items"] = ", ".join(self.reversed_items)
        order = ["alpha", "alpha_ci_lower", "alpha_ci_upper", "std_alpha", "average_r"]
        row = {"alpha_ci_lower": lower, "alpha_ci_upper": upper, **row}
        cols = order + [c for c in row if c not in order]
        return pd.DataFrame([row], columns=cols)

    def _repr_html_(self) -> str:
        return _html_table(f"Reliability of {self.k} items", self.to_frame().T)


def reliability(
    items: pd.DataFrame,
    *,
    reverse: Sequence[str] = (),
    min_value: float | None = None,
    max_value: float | None = None,
    conf_level: float = 0.95,
) -> Reliability:
    """Cronbach's alpha, standardised alpha, mean inter-item r, Feldt CI and omega total.

    Missing answers are handled like ``psych::alpha``: each covariance uses the rows where both
    items are answered (pairwise-complete), and the correlations behind ``std_alpha`` and
    ``average_r`` are ``cov2cor`` of those covariances. ``omega_total`` matches
    ``psych::omega(x, nfactors=1)$omega.tot``: ``1 - sum(u2) / sum(R)`` with ``R`` the
    pairwise-complete Pearson correlations (as ``cor(x, use="pairwise")``) and ``u2 = 1 - l**2``
    from a one-factor minimum residual fit of ``R``, solved here to full precision (psych stops
    its optimiser earlier, so the two agree to about 1e-6).

    Parameters
    ----------
    items
        One column per item, numeric, one row per respondent; NaN is unanswered.
    reverse
        Columns to reverse-key as ``min_value + max_value - x``. Needs ``min_value`` and
        ``max_value``: the range is never guessed from the data (``psych`` uses the observed
        minimum and maximum, which is the same on a scale whose extremes were used).
    min_value, max_value
        The response range; when given, values outside it raise :class:`DataError`.
    conf_level
        Coverage of the Feldt interval: with ``g = 1 - conf_level``, ``df1 = n - 1`` and
        ``df2 = (n - 1)(k - 1)``, the interval is ``1 - (1 - alpha) F(1 - g/2)`` to
        ``1 - (1 - alpha) F(g/2)``, ``n`` counting rows with at least one answer (``psych``
        counts every row; the same when no row is empty).

    Returns
    -------
    Reliability

    Raises
    ------
    DataError
        Fewer than two items, non-numeric or empty columns, an item without variance (alpha
        and the correlations are undefined; drop the item), values outside the given range.

    Warns
    -----
    ReliabilityWarning
        When a pairwise correlation is undefined (an item is constant on the rows shared with
        another), ``omega_total`` is NaN; alpha is still defined.

        When the pairwise-complete covariance matrix (or the correlation matrix behind
        ``omega_total``) is not positive semidefinite (its smallest eigenvalue is below
        ``-1e-8`` times its largest). With few respondents and scattered missing answers each
        pair of items is estimated from different rows, and the pairs need not fit together:
        ``alpha``, ``std_alpha`` and ``average_r`` can then exceed 1 (they are still reported,
        equal to ``psych::alpha``'s, but are not trustworthy). The fix is to compute them on
        complete cases (``items.dropna()``) or to collect more complete answers.

        When the Feldt interval comes out inverted (lower above upper, which happens exactly
        when alpha exceeds 1; ``psych`` prints it so) or not finite: ``alpha_ci`` is then
        ``(nan, nan)``, never an inverted interval.

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3],
    ...                   "c": [5, 3, 2, 2, 1, 4], "d": [2, 3, 3, 4, 4, 2]},
    ...                  index=[10, 11, 12, 13, 14, 15])
    >>> rel = reliability(x, reverse=["c"], min_value=1, max_value=5)
    >>> round(rel.alpha, 3), round(rel.omega_total, 3), rel.n, rel.k
    (0.932, 0.945, 6, 4)
    """
    if not 0 < conf_level < 1:
        raise DataError(f"conf_level must be between 0 and 1, got {conf_level}")
    x, names = _numeric_items(items, reverse=reverse, min_value=min_value, max_value=max_value)
    mom = _pairwise_moments(x)
    _check_pairs(mom, names)
    c = mom["cov"]
    k = c.shape[0]
    d = np.sqrt(np.diag(c))
    r = c / np.outer(d, d)
    alpha = _alpha_from_cov(c)
    sum_r = r.sum()
    std_alpha = (1.0 - k / sum_r) * k / (k - 1.0)
    average_r = (sum_r - k) / (k * (k - 1.0))
    n = int(mom["n_any"])
    g = 1.0 - conf_level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - g / 2.0, df1, df2)
    upper = 1.0 - (1.0 - alpha) * stats.f.ppf(g / 2.0, df1, df2)
    rp = mom["cor"]
    inverted = not (np.isfinite(lower) and np.isfinite(upper) and lower <= upper)
    if inverted:
        lower = upper = math.nan
    bad_cov, bad_cor = _not_psd(c), _not_psd(rp)
    if bad_cov or bad_cor:
        # std_alpha and average_r use cov2cor of the covariances, which is PSD exactly when
        # they are; omega_total uses the pairwise Pearson correlations, checked on their own
        if bad_cov and bad_cor:
            matrices = "covariance and correlation matrices are"
            affected = "alpha, std_alpha, average_r and omega_total"
        elif bad_cov:
            matrices, affected = "covariance matrix is", "alpha, std_alpha and average_r"
        else:
            matrices, affected = "correlation matrix (behind omega_total) is", "omega_total"
        message = _not_psd_message(matrices, affected)
        if inverted:
            message += "; the Feldt interval came out inverted, so alpha_ci is (nan, nan)"
        warnings.warn(message, ReliabilityWarning, stacklevel=2)
    elif inverted:
        warnings.warn(
            "the Feldt interval for alpha is undefined for these data (its bounds came out "
            "inverted or not finite), so alpha_ci is (nan, nan)",
            ReliabilityWarning,
            stacklevel=2,
        )
    if np.isfinite(rp).all():
        loadings = _minres_one_factor(rp)
        omega_total = (rp.sum() - np.sum(1.0 - loadings**2)) / rp.sum()
        if np.any(loadings**2 > 1.0 + 1e-8) or not 0.0 <= omega_total <= 1.0:
            # A Heywood case (a loading above 1, so a negative unique variance): the one-factor
            # model is improper here and omega would be meaningless, often far outside 0-1.
            worst = names[int(np.argmax(np.abs(loadings)))]
            warnings.warn(
                f"omega_total is NaN: the one-factor model is improper (Heywood case; item "
                f"{worst!r} has loading {np.max(np.abs(loadings)):.3g}); alpha is still reported",
                ReliabilityWarning,
                stacklevel=2,
            )
            omega_total = math.nan
    else:
        bad = np.argwhere(np.triu(~np.isfinite(rp), 1))
        pairs = ", ".join(f"{names[i]!r} & {names[j]!r}" for i, j in bad[:_MAX_SHOWN])
        warnings.warn(
            f"omega_total is NaN: the correlation of {pairs} is undefined because one item "
            "does not vary in the rows where both are answered",
            ReliabilityWarning,
            stacklevel=2,
        )
        omega_total = math.nan
    rev = [reverse] if isinstance(reverse, str) else list(reverse)
    return Reliability(
        alpha=float(alpha),
        std_alpha=float(std_alpha),
        average_r=float(average_r),
        alpha_ci=(float(lower), float(upper)),
        omega_total=float(omega_total),
        n=n,
        k=k,
        conf_level=float(conf_level),
        items=tuple(names),
        reversed_items=tuple(str(v) for v in rev),
    )


def item_statistics(
    items: pd.DataFrame,
    *,
    reverse: Sequence[str] = (),
    min_value: float | None = None,
    max_value: float | None = None,
) -> pd.DataFrame:
    """Per-item mean, SD, n, corrected item-total r and alpha if the item is deleted.

    Matches ``psych::alpha``'s ``item.stats`` (``mean``, ``sd``, ``n``, ``r.drop``) and
    ``alpha.drop$raw_alpha``, computed from pairwise-complete covariances. Means are of the
    reverse-keyed items. With two items ``alpha_if_deleted`` is NaN (one item has no alpha).

    Parameters
    ----------
    items, reverse, min_value, max_value
        As in :func:`reliability`.

    Returns
    -------
    pandas.DataFrame
        Indexed by item name in the input order, columns ``mean``, ``sd``, ``n``, ``r_drop``,
        ``alpha_if_deleted``.

    Warns
    -----
    ReliabilityWarning
        When the pairwise-complete covariance matrix is not positive semidefinite, as in
        :func:`reliability`: ``r_drop`` and ``alpha_if_deleted`` can then exceed 1 and are not
        trustworthy; compute them on complete cases (``items.dropna()``).

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 4], "c": [1, 3, 2, 4, 4]})
    >>> item_statistics(x).round(3)["r_drop"].tolist()
    [0.904, 0.843, 0.843]
    """
    x, names = _numeric_items(items, reverse=reverse, min_value=min_value, max_value=max_value)
    mom = _pairwise_moments(x)
    _check_pairs(mom, names)
    c = mom["cov"]
    if _not_psd(c):
        warnings.warn(
            _not_psd_message("covariance matrix is", "r_drop and alpha_if_deleted"),
            ReliabilityWarning,
            stacklevel=2,
        )
    k = c.shape[0]
    total = c.sum()
    col = c.sum(axis=0)
    var = np.diag(c)
    r_drop = np.empty(k)
    a_drop = np.full(k, np.nan)
    for i in range(k):
        rest = total - 2.0 * col[i] + var[i]
        r_drop[i] = (col[i] - var[i]) / np.sqrt(var[i] * rest)
        if k > 2:
            keep = np.arange(k) != i
            a_drop[i] = _alpha_from_cov(c[np.ix_(keep, keep)])
    return pd.DataFrame(
        {
            "mean": mom["mean"],
            "sd": np.sqrt(var),
            "n": mom["n_obs"].astype(int),
            "r_drop": r_drop,
            "alpha_if_deleted": a_drop,
        },
        index=pd.Index(names, name="item"),
    )


# ------------------------------------------------------------------------------------------------
# intraclass correlation
# ------------------------------------------------------------------------------------------------
_ICC_MODELS = {
    "all": ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"),
    "oneway": ("ICC1", "ICC1k"),
    "twoway_random": ("ICC2", "ICC2k"),
    "twoway_mixed": ("ICC3", "ICC3k"),
}
_ICC_DESCRIPTIONS = {
    "ICC1": "single rater, one-way random (absolute)",
    "ICC2": "single rater, two-way random (absolute agreement)",
    "ICC3": "single rater, two-way mixed (consistency)",
    "ICC1k": "mean of k raters, one-way random (absolute)",
    "ICC2k": "mean of k raters, two-way random (absolute agreement)",
    "ICC3k": "mean of k raters, two-way mixed (consistency)",
}


def icc(
    data: pd.DataFrame,
    *,
    targets: str,
    raters: str,
    ratings: str,
    model: Literal["all", "oneway", "twoway_random", "twoway_mixed"] = "all",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Shrout & Fleiss intraclass correlations from long data, as ``psych::ICC(lmer=FALSE)``.

    For test-retest agreement use the person as ``targets`` and the wave (or occasion) as
    ``raters``. Mean squares come from the two-way ANOVA of the complete targets: a target
    missing any rater's rating is excluded from every row and counted in ``n_excluded``.

    Parameters
    ----------
    data
        Long data: one row per target and rater.
    targets, raters, ratings
        Column names of the target id, the rater (wave) id and the numeric rating.
    model
        ``"all"`` (the six rows of ``psych::ICC``), ``"oneway"`` (ICC1, ICC1k),
        ``"twoway_random"`` (ICC2, ICC2k) or ``"twoway_mixed"`` (ICC3, ICC3k).
    conf_level
        Coverage of the intervals (``psych``'s ``alpha = 1 - conf_level``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``type`` (ICC1 ... ICC3k), columns ``description``, ``icc``, ``f``, ``df1``,
        ``df2``, ``p``, ``ci_lower``, ``ci_upper``, ``n_targets``, ``n_raters``, ``n_excluded``.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3, 4, 4], "wave": [1, 2] * 4,
    ...                      "score": [3.0, 3.5, 2.0, 2.5, 4.0, 4.5, 1.0, 2.0]})
    >>> round(float(icc(long, targets="id", raters="wave", ratings="score").loc["ICC3", "icc"]), 3)
    0.978
    """
    if model not in _ICC_MODELS:
        raise DataError(f"model must be one of {sorted(_ICC_MODELS)}, got {model!r}")
    if not 0 < conf_level < 1:
        raise DataError(f"conf_level must be between 0 and 1, got {conf_level}")
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in (targets, raters, ratings) if c not in data.columns]
    if missing:
        raise DataError(
            f"data has no column(s) {_show(missing)}; columns are {_show(data.columns)}"
        )
    if not pd.api.types.is_numeric_dtype(data[ratings]) or pd.api.types.is_bool_dtype(
        data[ratings]
    ):
        raise DataError(f"ratings column {ratings!r} must be numeric, got {data[ratings].dtype}")
    keyed = data[[targets, raters, ratings]]
    if keyed[[targets, raters]].isna().any().any():
        rows = keyed.index[keyed[[targets, raters]].isna().any(axis=1)]
        raise DataError(f"{targets!r} or {raters!r} is missing in rows {_show(rows)}")
    dup = keyed.duplicated([targets, raters], keep=False)
    if dup.any():
        raise DataError(
            f"some ({targets!r}, {raters!r}) pairs occur more than once (rows "
            f"{_show(keyed.index[dup])}); keep one rating per target and rater"
        )
    wide = keyed.pivot(index=targets, columns=raters, values=ratings).astype(float)
    complete = wide.dropna()
    n, k = complete.shape
    n_excluded = wide.shape[0] - n
    if k < 2:
        raise DataError(f"{raters!r} has {k} level(s); an ICC needs at least two raters (waves)")
    if n < 2:
        raise DataError(
            f"only {n} target(s) have a rating from every rater ({n_excluded} excluded for "
            "missing ratings); an ICC needs at least two"
        )
    y = complete.to_numpy()
    grand = y.mean()
    ss_rows = k * np.sum((y.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((y.mean(axis=0) - grand) ** 2)
    ss_total = np.sum((y - grand) ** 2)
    ss_err = ss_total - ss_rows - ss_cols
    msb = ss_rows / (n - 1)
    msj = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_err) / (n * (k - 1))
    if not mse > 0 or not msw > 0:
        raise DataError(f"{ratings!r} has no within-target variation; the ICC is undefined")
    a = 1.0 - conf_level
    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb - msw) / msb
    icc2k = (msb - mse) / (msb + (msj - mse) / n)
    icc3k = (msb - mse) / msb
    f1, df1n, df1d = msb / msw, n - 1, n * (k - 1)
    f3, df3n, df3d = msb / mse, n - 1, (n - 1) * (k - 1)
    p1 = stats.f.sf(f1, df1n, df1d)
    p3 = stats.f.sf(f3, df3n, df3d)
    f1l = f1 / stats.f.ppf(1 - a / 2, df1n, df1d)
    f1u = f1 * stats.f.ppf(1 - a / 2, df1d, df1n)
    f3l = f3 / stats.f.ppf(1 - a / 2, df3n, df3d)
    f3u = f3 * stats.f.ppf(1 - a / 2, df3d, df3n)
    # ICC2: Satterthwaite-type df of Shrout & Fleiss (1979), eq. for case 2
    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    fu2 = stats.f.ppf(1 - a / 2, n - 1, v)
    fl2 = stats.f.ppf(1 - a / 2, v, n - 1)
    denom = k * msj + (k * n - k - n) * mse
    l2 = n * (msb - fu2 * mse) / (fu2 * denom + n * msb)
    u2 = n * (fl2 * msb - mse) / (denom + n * fl2 * msb)
    table = {
        "ICC1": (icc1, f1, df1n, df1d, p1, (f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
        "ICC2": (icc2, f3, df3n, df3d, p3, l2, u2),
        "ICC3": (icc3, f3, df3n, df3d, p3, (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
        "ICC1k": (icc1k, f1, df1n, df1d, p1, 1 - 1 / f1l, 1 - 1 / f1u),
        "ICC2k": (
            icc2k,
            f3,
            df3n,
            df3d,
            p3,
            l2 * k / (1 + l2 * (k - 1)),
            u2 * k / (1 + u2 * (k - 1)),
        ),
        "ICC3k": (icc3k, f3, df3n, df3d, p3, 1 - 1 / f3l, 1 - 1 / f3u),
    }
    types = list(_ICC_MODELS[model])
    out = pd.DataFrame(
        [table[t] for t in types],
        index=pd.Index(types, name="type"),
        columns=["icc", "f", "df1", "df2", "p", "ci_lower", "ci_upper"],
    )
    out.insert(0, "description", [_ICC_DESCRIPTIONS[t] for t in types])
    out["df1"] = out["df1"].astype(int)
    out["df2"] = out["df2"].astype(int)
    out["n_targets"] = n
    out["n_raters"] = k
    out["n_excluded"] = n_excluded
    return out


@dataclass(frozen=True)
class GroupReliability:
    """How reliably group means (e.g. site means) tell groups apart (see :func:`group_icc`).

    Attributes
    ----------
    icc1
        ICC(1): the share of an individual score's variance that lies between groups,
        ``(MSB - MSW) / (MSB + (k - 1) MSW)`` with ``k`` the mean group size.
    icc2
        ICC(2): the reliability of the group means, ``(MSB - MSW) / MSB``; near 0 the means
        mostly reflect who happened to be in each group, near 1 they reliably differ.
    f, df_between, df_within, p
        The one-way ANOVA F test of equal group means.
    ms_between, ms_within
        Mean squares between and within groups.
    n, n_groups, mean_group_size, n_dropped
        People and groups analysed, ``n / n_groups``, and rows left out for a missing value
        or group.
    """

    icc1: float
    icc2: float
    f: float
    df_between: int
    df_within: int
    p: float
    ms_between: float
    ms_within: float
    n: int
    n_groups: int
    mean_group_size: float
    n_dropped: int

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the statistics."""
        return pd.DataFrame([{f.name: getattr(self, f.name) for f in fields(self)}])

    def _repr_html_(self) -> str:
        return _html_table(f"Reliability of {self.n_groups} group means", self.to_frame().T)


def group_icc(data: pd.DataFrame, *, value: str, group: str) -> GroupReliability:
    """ICC(1) and ICC(2) of a score's group means, for unbalanced groups.

    The one-way ANOVA estimates of Bliese (2000), as ``multilevel::ICC1`` and
    ``multilevel::ICC2`` on ``aov(value ~ factor(group))``: ``k`` in ICC(1) is the mean group
    size ``n / n_groups``, which is what R uses for unbalanced groups. Use it to judge whether
    site means of an outcome say something about the sites (ICC(2) of 0.7 or more is a common
    rule of thumb) before comparing sites.

    Parameters
    ----------
    data
        One row per person.
    value
        Numeric column of the score.
    group
        Column of the group (site) labels.

    Returns
    -------
    GroupReliability

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"site": list("aaabbbccc"),
    ...                   "score": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]})
    >>> r = group_icc(d, value="score", group="site")
    >>> round(r.icc1, 3), round(r.icc2, 3), r.n_groups
    (0.897, 0.963, 3)
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in (value, group) if c not in data.columns]
    if missing:
        raise DataError(
            f"data has no column(s) {_show(missing)}; columns are {_show(data.columns)}"
        )
    y = data[value]
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        raise DataError(f"value column {value!r} must be numeric, got {y.dtype}")
    keep = y.notna().to_numpy() & data[group].notna().to_numpy()
    values = y.to_numpy(dtype="float64", na_value=np.nan)[keep]
    codes, labels = pd.factorize(data[group][keep], sort=True)
    n, n_groups = values.size, len(labels)
    if n_groups < 2 or n - n_groups < 1:
        raise DataError(
            f"group_icc needs at least 2 groups and more people than groups; got {n} people "
            f"with a value in {n_groups} group(s)"
        )
    sizes = np.bincount(codes, minlength=n_groups).astype("float64")
    means = np.bincount(codes, weights=values, minlength=n_groups) / sizes
    grand = values.mean()
    ss_between = float(np.sum(sizes * (means - grand) ** 2))
    ss_within = float(np.sum((values - means[codes]) ** 2))
    df_b, df_w = n_groups - 1, n - n_groups
    msb, msw = ss_between / df_b, ss_within / df_w
    k = n / n_groups
    f = msb / msw if msw > 0 else math.inf
    return GroupReliability(
        icc1=(msb - msw) / (msb + (k - 1) * msw),
        icc2=(msb - msw) / msb if msb > 0 else math.nan,
        f=f,
        df_between=df_b,
        df_within=df_w,
        p=float(stats.f.sf(f, df_b, df_w)),
        ms_between=msb,
        ms_within=msw,
        n=n,
        n_groups=n_groups,
        mean_group_size=k,
        n_dropped=int((~keep).sum()),
    )
