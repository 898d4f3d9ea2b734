"""Match endings as competing risks: cumulative incidence, Gray's test, Fine-Gray regression.

A match ends in one of several ways (planned completion, the family moved, the mentor ran out
of time, ...). ``1 - Kaplan-Meier`` with the other endings censored overstates the risk of
any one ending, because it treats a match that completed as if it could still end early. The
cumulative incidence (Aalen-Johansen) of each ending type instead counts the other endings as
what they are: a match that completed as planned can no longer close early.

- :func:`cumulative_incidence`: Aalen-Johansen cumulative incidence by ending type, with
  standard errors and intervals, as ``summary(survfit(Surv(time, state) ~ group), times)``.
- :func:`gray_test`: Gray's test of equal cumulative incidence across groups, per ending
  type, as ``cmprsk::cuminc(...)$Tests``.
- :func:`fine_gray`: Fine-Gray subdistribution hazards regression, as ``cmprsk::crr``;
  :func:`competing_regression` sets it beside the cause-specific Cox model.
- :func:`early_closure`: the one definition of early closure, the cumulative incidence of
  unplanned endings within ``N`` calendar months, planned completion competing.

Every estimate is checked against R in ``tests/reference/competing_reference.R``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from tim_research._checks import check_conf_level, check_frame, check_min_cell
from tim_research.errors import ConvergenceWarning, DataError, SmallCellWarning
from tim_research.privacy import suppression_mask
from tim_research.stats.survival import (
    _as_series,
    _calendar_months,
    _cutoff,
    _dates,
    _durations_array,
    _groups_codes,
    _match_groups,
    cox,
    match_durations,
)
from tim_research.vocabulary import PLANNED_REASONS

__all__ = [
    "competing_regression",
    "cumulative_incidence",
    "early_closure",
    "fine_gray",
    "gray_test",
]


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------
def _cause_codes(causes: pd.Series, censored: Hashable | None) -> tuple[np.ndarray, list[Any]]:
    """Integer code per row (-1 = censored) and the sorted ending types."""
    missing = causes.isna().to_numpy().copy()
    if censored is not None:
        missing |= (causes == censored).fillna(False).to_numpy(dtype=bool)
    present = causes[~missing]
    try:
        codes, labels = pd.factorize(present.astype(object), sort=True)
    except TypeError as exc:
        raise DataError(f"the ending types cannot be sorted: {exc}") from exc
    out = np.full(len(causes), -1, dtype=np.int64)
    out[~missing] = codes
    return out, list(labels)


def _inputs(
    durations: Any, causes: Any, by: Any, censored: Hashable | None
) -> tuple[np.ndarray, np.ndarray, list[Any], np.ndarray | None, list[Any]]:
    d = _as_series(durations, "durations")
    t = _durations_array(d)
    c = _as_series(causes, "causes", d.index)
    codes, labels = _cause_codes(c, censored)
    if not labels:
        raise DataError(
            "causes has no ending at all (every row is censored): there is no cumulative "
            "incidence to estimate"
        )
    if by is None:
        return t, codes, labels, None, []
    g, glabels = _groups_codes(_as_series(by, "by", d.index))
    return t, codes, labels, g, glabels


# ---------------------------------------------------------------------------------------------
# Aalen-Johansen
# ---------------------------------------------------------------------------------------------
def _aalen_johansen(t: np.ndarray, cause: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Cumulative incidence of ``k`` causes at each distinct event time, with IJ std errors.

    The standard errors are the infinitesimal-jackknife ones of ``survival::survfit`` for
    multi-state data (``survfitci.c``): the influence of each match on the state
    probabilities is carried through the product of the transition matrices, one event time
    at a time, and the variance is the sum of squared influences.
    """
    n = t.size
    event = cause >= 0
    times = np.unique(t[event])
    m = times.size
    n_risk = np.empty(m)
    d_k = np.zeros((m, k))
    cif = np.zeros((m, k))
    se = np.zeros((m, k))
    u = np.zeros((n, k + 1))  # influence on (still open, cause 1, ..., cause k)
    surv = 1.0
    f = np.zeros(k)
    for i, s in enumerate(times):
        at_risk = t >= s
        here = event & (t == s)
        nr = float(at_risk.sum())
        dk = np.bincount(cause[here], minlength=k).astype(float)
        h = dk / nr
        h0 = 1.0 - h.sum()
        u0 = u[:, 0].copy()
        u[:, 0] = u0 * h0
        u[:, 1:] += u0[:, None] * h
        step = surv / nr
        u[at_risk, 0] -= h0 * step
        u[at_risk, 1:] -= h * step
        stay = at_risk & ~here
        u[stay, 0] += step
        moved = np.flatnonzero(here)
        u[moved, cause[moved] + 1] += step
        f = f + surv * h
        surv = surv * h0
        n_risk[i] = nr
        d_k[i] = dk
        cif[i] = f
        se[i] = np.sqrt((u[:, 1:] ** 2).sum(axis=0))
    return {"time": times, "n_risk": n_risk, "events": d_k, "cif": cif, "se": se}


def _log_ci(p: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """The log-transformed interval for a state probability, as survfit (upper capped at 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p_ok = np.where(p == 0, np.nan, p)
        se_log = np.where(se == 0, 0.0, se / p_ok)
        return p_ok * np.exp(-z * se_log), np.minimum(p_ok * np.exp(z * se_log), 1.0)


def _at_times(
    t: np.ndarray, cause: np.ndarray, k: int, times: np.ndarray | None, z: float
) -> dict[str, np.ndarray]:
    """One group's cumulative incidence at ``times`` (default: every event time)."""
    aj = _aalen_johansen(t, cause, k)
    grid = aj["time"] if times is None else times[times <= t.max()]
    # the estimate at t is that of the last event time on or before t (0 before the first)
    row = np.searchsorted(aj["time"], grid, side="right")
    cif = np.vstack((np.zeros(k), aj["cif"]))[row]
    se = np.vstack((np.zeros(k), aj["se"]))[row]
    lower, upper = _log_ci(cif, se, z)
    # before the first observed time (event or censoring) survfit reports the starting
    # state, whose interval is [0, 0]
    start = grid < t.min()
    lower[start] = 0.0
    upper[start] = 0.0
    at_risk = (t[None, :] >= grid[:, None]).sum(axis=1)
    # events in (previous time, this time], as summary.survfit counts them
    edges = np.concatenate(([-np.inf], grid))
    events = np.zeros((grid.size, k))
    for j in range(k):
        tj = np.sort(t[cause == j])
        cum = np.searchsorted(tj, edges, side="right")
        events[:, j] = np.diff(cum)
    cum_events = np.cumsum(events, axis=0)
    return {
        "time": grid,
        "at_risk": at_risk,
        "events": events,
        "cum_events": cum_events,
        "cif": cif,
        "se": se,
        "ci_lower": lower,
        "ci_upper": upper,
    }


def _suppress_cif(table: pd.DataFrame, n_group: pd.Series, min_cell: int) -> np.ndarray:
    """Mask counts and the estimates built on them; return the ``suppressed`` flags."""
    small = (table["at_risk"] > 0) & (table["at_risk"] < min_cell)
    few = (table["cum_events"] > 0) & (table["cum_events"] < min_cell)
    tiny_group = n_group.reindex(table["_g"]).to_numpy() < min_cell
    hide_events = np.zeros(len(table), dtype=bool)
    for _, rows in table.groupby(["_g", "cause"], sort=False).groups.items():
        block = table.loc[rows, ["events"]].astype(int)
        if (block["events"] > 0).any():
            hide_events[table.index.get_indexer(rows)] = suppression_mask(block, min_cell=min_cell)[
                "events"
            ].to_numpy()
    hide_estimate = small.to_numpy() | few.to_numpy() | tiny_group
    hide_events |= tiny_group
    table["events"] = table["events"].where(~hide_events)
    table["at_risk"] = table["at_risk"].where(~(small.to_numpy() | tiny_group))
    for col in ("cif", "se", "ci_lower", "ci_upper"):
        table[col] = table[col].where(~hide_estimate)
    return hide_estimate | hide_events | small.to_numpy()


def cumulative_incidence(
    durations: Any,
    causes: Any,
    *,
    by: Any = None,
    times: Sequence[float] | None = None,
    censored: Hashable | None = None,
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Cumulative incidence of each ending type (Aalen-Johansen), overall or by group.

    The cumulative incidence of an ending type at ``t`` is the share of matches that had
    ended *that way* by ``t``, the other endings competing: a match that completed as
    planned is no longer at risk of an early closure (``1 - Kaplan-Meier`` with the other
    endings censored would count it as still at risk, and overstates the risk). The
    incidences of all ending types and the share still open add up to 1.

    Standard errors are survfit's infinitesimal-jackknife ones; the intervals are survfit's
    default for multi-state curves, ``conf.type = "log"``: ``cif * exp(+/- z se / cif)``,
    the upper limit capped at 1 (no interval where the incidence is 0; before the first
    follow-up time, the starting state, ``[0, 0]``).

    Parameters
    ----------
    durations
        Follow-up time per match (Series or array), e.g. ``duration_months`` from
        :func:`~tim_research.stats.survival.match_durations`; finite and non-negative.
    causes
        Ending type per match, same length (and index); missing (NaN/None) means the match
        is censored (still open at the cut-off).
    by
        Optional group labels: one set of curves per group, groups in sorted order.
    times
        Times at which to report, as ``summary(fit, times = ...)``; times after a group's
        last follow-up are left out (as R does). Default: every event time of the group.
    censored
        A value of ``causes`` that also means censored (as ``cmprsk``'s ``cencode``), e.g.
        ``0`` for 0/1/2 coded endings.
    conf_level
        Coverage of the pointwise intervals.
    min_cell
        ``at_risk`` from 1 to ``min_cell - 1`` is masked; ``events`` per group and ending
        type as :func:`tim_research.privacy.suppression_mask` decides on the column of
        counts over the times (its total taken as known); the estimate, its se and interval
        are masked where fewer than ``min_cell`` matches are at risk, where 1 to
        ``min_cell - 1`` matches have ended that way so far, and for a whole group of fewer
        than ``min_cell`` matches (its counts too). A
        :class:`~tim_research.errors.SmallCellWarning` says how many rows. ``0`` shows all.
        The size of each step of a shown curve, with ``at_risk``, still tells how many
        matches ended at that time: a full curve (``times=None``) is for figures and
        analysis; publish the incidence at a few chosen ``times``.

    Returns
    -------
    pandas.DataFrame
        One row per group, time and ending type: ``group`` (when ``by`` is given), ``time``,
        ``cause``, ``at_risk`` (matches still open just before ``time``), ``events``
        (endings of that type since the previous reported time, as ``summary.survfit``
        counts them), ``cif``, ``se``, ``ci_lower``, ``ci_upper``, ``suppressed``. Counts
        are floats so that they can be masked.

    Examples
    --------
    >>> t = cumulative_incidence(
    ...     [1, 2, 2, 3, 4, 5], ["moved", "planned", None, "moved", "planned", None],
    ...     times=[2, 4], min_cell=0)
    >>> t[["time", "cause", "at_risk", "events", "cif"]]
       time    cause  at_risk  events       cif
    0   2.0    moved      5.0     1.0  0.166667
    1   2.0  planned      5.0     1.0  0.166667
    2   4.0    moved      2.0     1.0  0.388889
    3   4.0  planned      2.0     1.0  0.388889

    At 3 months 3 matches were still open and one of them moved: ``1/6 + (4/6) (1/3)``.

    R: ``summary(survfit(Surv(time, state) ~ 1), times = c(2, 4))`` with ``state`` a factor
    whose first level is the censoring.
    """
    min_cell = check_min_cell(min_cell)
    check_conf_level(conf_level)
    z = NormalDist().inv_cdf(1 - (1 - conf_level) / 2)
    t, codes, labels, groups, glabels = _inputs(durations, causes, by, censored)
    grid = None
    if times is not None:
        grid = np.sort(np.asarray(times, dtype=float).ravel())
        if grid.size == 0 or not np.isfinite(grid).all():
            raise DataError("times must be finite numbers (at least one)")
    k = len(labels)
    parts = [(None, np.ones(t.size, dtype=bool))]
    if groups is not None:
        parts = [(g, groups == i) for i, g in enumerate(glabels)]
    blocks = []
    for i, (label, sel) in enumerate(parts):
        r = _at_times(t[sel], codes[sel], k, grid, z)
        nt = r["time"].size
        block = pd.DataFrame(
            {
                "_g": i,
                "time": np.repeat(r["time"], k),
                "cause": pd.Series(labels * nt, dtype=object),
                "at_risk": np.repeat(r["at_risk"], k).astype(float),
                "events": r["events"].ravel(),
                "cum_events": r["cum_events"].ravel(),
                "cif": r["cif"].ravel(),
                "se": r["se"].ravel(),
                "ci_lower": r["ci_lower"].ravel(),
                "ci_upper": r["ci_upper"].ravel(),
            }
        )
        if groups is not None:
            block.insert(0, "group", pd.Series([label] * len(block), dtype=object))
        blocks.append(block)
    out = pd.concat(blocks, ignore_index=True)
    if min_cell > 0 and len(out):
        n_group = pd.Series([int(sel.sum()) for _, sel in parts])
        out["suppressed"] = _suppress_cif(out, n_group, min_cell)
        n_masked = int(out["suppressed"].sum())
        if n_masked:
            warnings.warn(
                f"cumulative_incidence: {n_masked} row(s) masked (fewer than "
                f"min_cell={min_cell} matches at risk or ended that way, or to protect one)",
                SmallCellWarning,
                stacklevel=2,
            )
    else:
        out["suppressed"] = False
    return out.drop(columns=["_g", "cum_events"])


# ---------------------------------------------------------------------------------------------
# Gray's test
# ---------------------------------------------------------------------------------------------
def _gray_stratum(
    t: np.ndarray, m: np.ndarray, g: np.ndarray, ng: int, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """Score and variance of Gray's test in one stratum (a port of cmprsk's ``crst``).

    ``m`` is 0 (censored), 1 (the ending of interest) or 2 (another ending); ``g`` the group
    code 0..ng-1. Returns the scores of the first ``ng - 1`` groups and their covariance.
    """
    ng1 = ng - 1
    rs = np.bincount(g, minlength=ng).astype(float)  # risk set sizes
    s = np.zeros(ng1)
    v = np.zeros((ng1, ng1))
    f1m = np.zeros(ng)
    skmm = np.ones(ng)
    v3 = np.zeros(ng)
    v2 = np.zeros((ng1, ng))
    c = np.zeros((ng, ng))
    fm = 0.0
    times, start = np.unique(t, return_index=True)
    ends = np.append(start[1:], t.size)
    for lo, hi in zip(start, ends, strict=True):
        d = np.zeros((3, ng))
        np.add.at(d, (m[lo:hi], g[lo:hi]), 1.0)
        nd1, nd2 = d[1].sum(), d[2].sum()
        if nd1 == 0 and nd2 == 0:
            rs -= np.bincount(g[lo:hi], minlength=ng)
            continue
        live = rs > 0
        skm = skmm.copy()
        f1 = f1m.copy()
        skm[live] = skmm[live] * (rs[live] - d[1, live] - d[2, live]) / rs[live]
        f1[live] = f1m[live] + skmm[live] * d[1, live] / rs[live]
        tr = (rs[live] / skmm[live]).sum()
        tq = (rs[live] * (1 - f1m[live]) / skmm[live]).sum()
        f = fm + nd1 / tr
        fb = (1 - fm) ** rho
        t1 = np.where(live, rs / np.where(live, skmm, 1.0), 0.0)
        a = -fb * np.outer(t1, t1) / tr
        np.fill_diagonal(a, fb * t1 * (1 - t1 / tr))
        a[~live, :] = 0.0
        a[:, ~live] = 0.0
        c += np.where(a != 0, a * nd1 / (tr * (1 - fm)), 0.0)
        for i in range(ng1):
            if rs[i] > 0:
                s[i] += fb * (d[1, i] - nd1 * rs[i] * (1 - f1m[i]) / (skmm[i] * tq))
        if nd1 > 0:
            for k in np.flatnonzero(live):
                t4 = 1 - (1 - f) / skm[k] if skm[k] > 0 else 1.0
                t5 = 1 - (nd1 - 1) / (tr * skmm[k] - 1) if nd1 > 1 else 1.0
                t3 = t5 * skmm[k] * nd1 / (tr * rs[k])
                v3[k] += t4 * t4 * t3
                w = a[:ng1, k] - t4 * c[:ng1, k]
                v2[:, k] += w * t4 * t3
                v += np.outer(w, w) * t3
        if nd2 > 0:
            for k in range(ng):
                if skm[k] <= 0 or d[2, k] <= 0:
                    continue
                t4 = (1 - f) / skm[k]
                t5 = 1 - (d[2, k] - 1) / (rs[k] - 1) if d[2, k] > 1 else 1.0
                t3 = t5 * skmm[k] ** 2 * d[2, k] / rs[k] ** 2
                v3[k] += t4 * t4 * t3
                w = t4 * c[:ng1, k]
                v2[:, k] -= w * t4 * t3
                v += np.outer(w, w) * t3
        rs -= np.bincount(g[lo:hi], minlength=ng)
        fm = f
        f1m = f1
        skmm = skm
    cc = c[:ng1]
    v += (cc * v3) @ cc.T + cc @ v2.T + v2 @ cc.T
    return s, v


def gray_test(
    durations: Any,
    causes: Any,
    groups: Any,
    *,
    strata: Any = None,
    rho: float = 0.0,
    censored: Hashable | None = None,
) -> pd.DataFrame:
    """Gray's test of equal cumulative incidence across groups, for each ending type.

    For each ending type, the test compares the subdistribution hazards of the groups (the
    rate of that ending among matches that have not ended *that way*, those that ended
    otherwise kept in the risk set with decreasing weight): a difference in the cumulative
    incidence curves themselves, which the log-rank test of cause-specific hazards does not
    test. A port of ``cmprsk::cuminc``'s ``crstm``.

    Parameters
    ----------
    durations, causes, censored
        As for :func:`cumulative_incidence`.
    groups
        Group label per match; at least two groups.
    strata
        Optional strata: the test is stratified (scores and variances summed over strata).
    rho
        Power of the weight ``(1 - F(t-))^rho``; 0 (the default, as ``cuminc``) weights all
        times alike, larger values stress early differences.

    Returns
    -------
    pandas.DataFrame
        One row per ending type (sorted): ``cause``, ``stat`` (chi-square), ``df``
        (groups - 1) and ``p``. ``stat`` and ``p`` are NaN when the variance matrix is
        singular (``cuminc`` reports -1).

    Examples
    --------
    >>> r = gray_test([1, 2, 3, 4, 5, 6, 7, 8], ["a", "b", "a", None, "b", "a", "b", "a"],
    ...               ["x", "x", "y", "x", "y", "y", "x", "y"])
    >>> r[["cause", "df"]]
      cause  df
    0     a   1
    1     b   1

    R: ``cmprsk::cuminc(ftime, fstatus, group)$Tests``.
    """
    if groups is None:
        raise DataError("gray_test needs groups: one group label per match")
    t, codes, labels, g, glabels = _inputs(durations, causes, groups, censored)
    assert g is not None
    ng = len(glabels)
    if ng < 2:
        raise DataError("gray_test needs at least two groups; use cumulative_incidence for one")
    if not 0 <= rho < math.inf:
        raise DataError(f"rho must be a number of 0 or more, got {rho!r}")
    if strata is None:
        st = np.zeros(t.size, dtype=np.int64)
    else:
        st, _ = _groups_codes(_as_series(strata, "strata", _as_series(durations, "d").index))
    order = np.argsort(t, kind="stable")
    t, codes, g, st = t[order], codes[order], g[order], st[order]
    rows = []
    for j, label in enumerate(labels):
        m = np.where(codes == j, 1, np.where(codes >= 0, 2, 0))
        s = np.zeros(ng - 1)
        v = np.zeros((ng - 1, ng - 1))
        for k in np.unique(st):
            sel = st == k
            sk, vk = _gray_stratum(t[sel], m[sel], g[sel], ng, float(rho))
            s += sk
            v += vk
        stat = math.nan
        if np.linalg.matrix_rank(v) == ng - 1:
            stat = float(s @ np.linalg.solve(v, s))
        p = float(chdtrc(ng - 1, stat)) if math.isfinite(stat) else math.nan
        rows.append({"cause": label, "stat": stat, "df": ng - 1, "p": p})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Fine-Gray subdistribution hazards regression
# ---------------------------------------------------------------------------------------------
def _censoring_left_limits(t: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Kaplan-Meier of the censoring distribution just before each time, G(t-)."""
    times, inverse = np.unique(t, return_inverse=True)
    total = np.bincount(inverse, minlength=times.size)
    cens = np.bincount(inverse, weights=censored.astype(float), minlength=times.size)
    at_risk = t.size - np.concatenate(([0], np.cumsum(total)[:-1]))
    surv = np.cumprod(1.0 - cens / at_risk)
    before = np.concatenate(([1.0], surv[:-1]))
    return before[inverse]


class _FineGrayData:
    """Sorted data and the weighted risk sets of Fine and Gray (1999), as ``cmprsk::crr``.

    At each distinct time ``T_a`` of the ending of interest the risk set holds every match
    still open (weight 1) and every match that ended *another way* before ``T_a``, with
    weight ``G(T_a-) / G(t_j-)``, G the Kaplan-Meier of the censoring distribution.
    """

    def __init__(self, t: np.ndarray, status: np.ndarray, x: np.ndarray) -> None:
        order = np.argsort(t, kind="stable")
        self.t, self.status, self.x = t[order], status[order], x[order]
        self.g = _censoring_left_limits(self.t, self.status == 0)
        fail = self.status == 1
        self.fail_times, self.d = np.unique(self.t[fail], return_counts=True)
        self.d = self.d.astype(float)
        self.g_fail = self.g[np.searchsorted(self.t, self.fail_times)]
        other = self.status == 2
        later = self.t[None, :] >= self.fail_times[:, None]
        before_other = (~later) & other[None, :]
        self.w = later + before_other * (self.g_fail[:, None] / self.g[None, :])
        self.x_fail_sum = self.x[fail].sum(axis=0)

    def sums(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        eta = self.x @ beta
        shift = float(eta.max())
        e = np.exp(eta - shift)
        we = self.w * e[None, :]
        s0 = we.sum(axis=1)
        s1 = we @ self.x
        return e, s0, s1, shift

    def loglik(self, beta: np.ndarray) -> float:
        _, s0, _, shift = self.sums(beta)
        return float(self.x_fail_sum @ beta - (self.d * (np.log(s0) + shift)).sum())

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log pseudo-likelihood, score and information."""
        e, s0, s1, shift = self.sums(beta)
        xbar = s1 / s0[:, None]
        loglik = float(self.x_fail_sum @ beta - (self.d * (np.log(s0) + shift)).sum())
        score = self.x_fail_sum - self.d @ xbar
        we = self.w * e[None, :]
        s2 = np.einsum("aj,jp,jq->apq", we, self.x, self.x)
        info = np.einsum("a,apq->pq", self.d / s0, s2) - np.einsum(
            "a,ap,aq->pq", self.d, xbar, xbar
        )
        return loglik, score, info

    def robust_middle(self, beta: np.ndarray) -> np.ndarray:
        """Middle of crr's sandwich: sum over matches of (eta_i + psi_i)(eta_i + psi_i)'."""
        t, x = self.t, self.x
        e, s0, s1, _ = self.sums(beta)
        xbar = s1 / s0[:, None]
        ds0 = self.d / s0
        # eta: the dN_i part for failures, minus the integral over the estimated baseline
        c0 = ds0 @ self.w
        c1 = (ds0[:, None] * xbar).T @ self.w
        eta = -e[:, None] * (x * c0[:, None] - c1.T)
        fail = self.status == 1
        pos = np.searchsorted(self.fail_times, t[fail])
        eta[fail] += x[fail] - xbar[pos]
        # psi: the part from estimating G, at each censoring time u
        times, first = np.unique(t, return_index=True)
        at_risk = t.size - first  # matches with time >= u
        other = self.status == 2
        u_other = np.where(other, e / self.g, 0.0)
        b0 = np.concatenate(([0.0], np.cumsum(u_other)))[first]  # those with t < u
        b1 = np.vstack((np.zeros(x.shape[1]), np.cumsum(u_other[:, None] * x, axis=0)))[first]
        a0 = ds0 * self.g_fail
        a1 = a0[:, None] * xbar
        # sums over failure times T_a >= u
        k = np.searchsorted(self.fail_times, times, side="left")
        tail0 = np.concatenate((np.cumsum(a0[::-1])[::-1], [0.0]))[k]
        tail1 = np.vstack((np.cumsum(a1[::-1], axis=0)[::-1], np.zeros(x.shape[1])))[k]
        q = b1 * tail0[:, None] - b0[:, None] * tail1
        cens = np.bincount(
            np.searchsorted(times, t),
            weights=(self.status == 0).astype(float),
            minlength=times.size,
        )
        ss2 = -np.cumsum(q * (cens / at_risk.astype(float) ** 2)[:, None], axis=0)
        block = np.searchsorted(times, t)
        psi = ss2[block]
        cen = self.status == 0
        psi[cen] += q[block[cen]] / at_risk[block[cen]][:, None]
        total = eta + psi
        return total.T @ total


def _fine_gray_fit(
    fg: _FineGrayData, p: int, *, max_iter: int, gtol: float
) -> tuple[np.ndarray, float, np.ndarray, int, bool]:
    """Newton-Raphson with backtracking from zero, with crr's steps and stopping rule."""
    beta = np.zeros(p)
    converged = False
    iterations = 0
    loglik, score, info = fg.evaluate(beta)
    for iterations in range(max_iter + 1):
        # crr minimises -loglik: its gradient is -score
        if np.max(np.abs(score) * np.maximum(np.abs(beta), 1)) < max(abs(loglik), 1) * gtol:
            converged = True
            break
        if iterations == max_iter:
            break
        step = np.linalg.solve(info, score)
        new = beta + step
        f_new = -fg.loglik(new)
        halvings = 0
        while not np.isfinite(f_new) or f_new > -loglik + 1e-4 * float(step @ -score):
            halvings += 1
            step = step * 0.5
            new = beta + step
            f_new = -fg.loglik(new)
            if halvings > 20:
                break
        if halvings > 20:
            break
        beta = new
        loglik, score, info = fg.evaluate(beta)
    return beta, loglik, info, iterations, converged


def fine_gray(
    data: pd.DataFrame,
    *,
    duration: str,
    cause: str,
    covariates: Sequence[str],
    failcode: Hashable,
    censored: Hashable | None = None,
    conf_level: float = 0.95,
    max_iter: int = 10,
    gtol: float = 1e-6,
) -> pd.DataFrame:
    """Fine-Gray subdistribution hazards regression for one ending type, as ``cmprsk::crr``.

    How to read it: ``exp(coef)``, the subdistribution hazard ratio (``shr``), is the effect
    of a covariate on the *cumulative incidence* of the ending ``failcode``: an ``shr`` above
    1 means more matches end that way by any time, whether because the covariate speeds that
    ending or because it holds off the competing ones. For the effect on the *rate* of that
    ending among the matches still going, fit the cause-specific Cox model (see
    :func:`competing_regression`); the two can differ, even in sign.

    The pseudo-likelihood of Fine and Gray (1999) keeps matches that ended another way in the
    risk set, weighted by the inverse of the censoring distribution (its Kaplan-Meier); it is
    maximised by Newton-Raphson from zero with ``crr``'s backtracking and stopping rule
    (``gtol``, ``max_iter``), and the standard errors are ``crr``'s sandwich estimator, which
    allows for the estimated censoring weights.

    Parameters
    ----------
    data
        One row per match.
    duration
        Column of follow-up times (finite, >= 0).
    cause
        Column of ending types; missing means censored.
    covariates
        Numeric (or boolean) columns; code categories as 0/1 dummies.
    failcode
        The ending type of interest; every other ending competes.
    censored
        A value of ``cause`` that also means censored (``crr``'s ``cencode``).
    conf_level
        Level of the intervals of the subdistribution hazard ratio.
    max_iter, gtol
        Newton-Raphson limits, as ``crr``'s ``maxiter`` and ``gtol``.

    Returns
    -------
    pandas.DataFrame
        Indexed by covariate: ``coef``, ``se``, ``shr`` (exp(coef)), ``ci_lower``,
        ``ci_upper``, ``z``, ``p``. ``attrs`` holds ``n``, ``n_events`` (endings of interest),
        ``n_competing``, ``loglik`` (pseudo log-likelihood at zero and at the estimate),
        ``iterations``, ``converged``.

    Examples
    --------
    >>> d = pd.DataFrame({
    ...     "months": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    ...     "ending": ["moved", "planned", "moved", None, "moved", "planned",
    ...                "planned", "moved", None, "planned", "moved", "planned"],
    ...     "x": [1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1]})
    >>> fit = fine_gray(d, duration="months", cause="ending", covariates=["x"],
    ...                 failcode="moved")
    >>> list(fit.columns)
    ['coef', 'se', 'shr', 'ci_lower', 'ci_upper', 'z', 'p']

    R: ``cmprsk::crr(ftime, fstatus, cov1, failcode = "moved", cencode = ...)``.
    """
    check_frame(data)
    check_conf_level(conf_level)
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if not covariates:
        raise DataError("covariates is empty: name at least one column")
    absent = [c for c in [duration, cause, *covariates] if c not in data.columns]
    if absent:
        raise DataError(f"data has no column(s) {absent}; found {list(data.columns)}")
    t = _durations_array(data[duration], duration)
    codes, labels = _cause_codes(data[cause], censored)
    if failcode not in labels:
        raise DataError(
            f"failcode {failcode!r} is not an ending type of {cause}; found {labels[:8]}"
        )
    status = np.where(codes == labels.index(failcode), 1, np.where(codes >= 0, 2, 0))
    x = np.empty((len(data), len(covariates)))
    for j, name in enumerate(covariates):
        col = data[name]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise DataError(
                f"covariate {name} is not numeric (dtype {col.dtype}); code it as 0/1 dummies"
            )
        x[:, j] = col.to_numpy(dtype="float64", na_value=np.nan)
        if not np.isfinite(x[:, j]).all():
            raise DataError(
                f"covariate {name} has missing or infinite values; impute them or drop those "
                "rows explicitly"
            )
    x -= x.mean(axis=0)  # the pseudo-likelihood does not change; exp() stays in range
    fg = _FineGrayData(t, status, x)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loglik0 = fg.loglik(np.zeros(x.shape[1]))
        beta, loglik, info, iterations, converged = _fine_gray_fit(
            fg, x.shape[1], max_iter=max_iter, gtol=gtol
        )
        try:
            inv = np.linalg.inv(info)
        except np.linalg.LinAlgError as exc:
            raise DataError(
                "fine_gray: the information matrix is singular: a covariate does not vary "
                "within the risk sets, or covariates are collinear"
            ) from exc
        cov = inv @ fg.robust_middle(beta) @ inv
    if not converged:
        warnings.warn(
            f"fine_gray: no convergence in {iterations} iterations; a coefficient may be "
            "infinite (a covariate that separates the endings)",
            ConvergenceWarning,
            stacklevel=2,
        )
    z_crit = NormalDist().inv_cdf(1 - (1 - conf_level) / 2)
    se = np.sqrt(np.diag(cov))
    zval = beta / se
    out = pd.DataFrame(
        {
            "coef": beta,
            "se": se,
            "shr": np.exp(beta),
            "ci_lower": np.exp(beta - z_crit * se),
            "ci_upper": np.exp(beta + z_crit * se),
            "z": zval,
            "p": [math.erfc(abs(v) / math.sqrt(2)) for v in zval],
        },
        index=pd.Index(covariates, name="covariate"),
    )
    out.attrs.update(
        n=int(t.size),
        n_events=int((status == 1).sum()),
        n_competing=int((status == 2).sum()),
        loglik=(loglik0, loglik),
        iterations=iterations,
        converged=converged,
        failcode=failcode,
    )
    return out


def competing_regression(
    data: pd.DataFrame,
    *,
    duration: str,
    cause: str,
    covariates: Sequence[str],
    failcode: Hashable,
    censored: Hashable | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Fine-Gray and cause-specific Cox models of one ending type, side by side.

    The two answer different questions, and both are worth reporting:

    - **Subdistribution hazard ratio** (Fine-Gray, :func:`fine_gray`): the effect of a
      covariate on the *cumulative incidence* of the ending, the share of matches that end
      that way by a given time. Use it to predict how many matches will end that way.
    - **Cause-specific hazard ratio** (Cox, :func:`tim_research.stats.survival.cox` with the
      other endings censored): the effect on the *rate* of that ending among the matches
      still in a match at each time. Use it to ask what drives that ending.

    A covariate that hastens a competing ending (say, planned completion) lowers the
    cumulative incidence of early closure although it may leave its cause-specific rate
    unchanged: the two hazard ratios then differ.

    Parameters
    ----------
    data, duration, cause, covariates, failcode, censored, conf_level
        As for :func:`fine_gray`.

    Returns
    -------
    pandas.DataFrame
        Two rows per covariate: ``model`` (``"subdistribution (Fine-Gray)"`` or
        ``"cause-specific (Cox)"``), ``covariate``, ``coef``, ``se``, ``hr`` (the
        subdistribution or cause-specific hazard ratio), ``ci_lower``, ``ci_upper``, ``p``.

    Examples
    --------
    >>> d = pd.DataFrame({
    ...     "months": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    ...     "ending": ["moved", "planned", "moved", None, "moved", "planned",
    ...                "planned", "moved", None, "planned", "moved", "planned"],
    ...     "x": [1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1]})
    >>> competing_regression(d, duration="months", cause="ending", covariates=["x"],
    ...                      failcode="moved")["model"].tolist()
    ['subdistribution (Fine-Gray)', 'cause-specific (Cox)']
    """
    fg = fine_gray(
        data,
        duration=duration,
        cause=cause,
        covariates=covariates,
        failcode=failcode,
        censored=censored,
        conf_level=conf_level,
    )
    codes, labels = _cause_codes(data[cause], censored)
    frame = data[[duration, *fg.index]].copy()
    # cause-specific: every other ending is censored
    frame["_event"] = codes == labels.index(failcode)
    cs = cox(
        frame,
        duration=duration,
        event="_event",
        covariates=list(fg.index),
        conf_level=conf_level,
    )
    parts = []
    for name, fit, hr in (
        ("subdistribution (Fine-Gray)", fg, "shr"),
        ("cause-specific (Cox)", cs, "hr"),
    ):
        part = fit[["coef", "se", hr, "ci_lower", "ci_upper", "p"]].rename(columns={hr: "hr"})
        part = part.reset_index()
        part.insert(0, "model", name)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# early closure: the cumulative incidence of unplanned endings by N calendar months
# ---------------------------------------------------------------------------------------------
def _left_limit(t: np.ndarray, cause: np.ndarray, n: int, z: float) -> dict[str, float]:
    """Unplanned-ending incidence (cause 0; cause 1 competes) just before ``n``, as survfit."""
    aj = _aalen_johansen(t, cause, 2)
    # endings at exactly n (on the N-month date) are not "within N months"
    row = int(np.searchsorted(aj["time"], n, side="left"))
    cif = float(np.concatenate(([0.0], aj["cif"][:, 0]))[row])
    se = float(np.concatenate(([0.0], aj["se"][:, 0]))[row])
    lower, upper = _log_ci(np.array([cif]), np.array([se]), z)
    if n <= t.min():  # before the first follow-up time: the starting state, [0, 0]
        lower[:], upper[:] = 0.0, 0.0
    return {
        "at_risk": float((t >= n).sum()),
        "events": float(((cause == 0) & (t < n)).sum()),
        "estimate": cif,
        "se": se,
        "ci_lower": float(lower[0]),
        "ci_upper": float(upper[0]),
    }


def _suppress_early(out: pd.DataFrame, min_cell: int, grouped: bool) -> pd.Series:
    """Mask small counts (and their complements across groups) and the estimates they carry."""
    small_group = (out["n"] > 0) & (out["n"] < min_cell)
    hide_n = small_group.copy()
    hide_risk = (out["at_risk"] > 0) & (out["at_risk"] < min_cell)
    hide_events = (out["events"] > 0) & (out["events"] < min_cell)
    if grouped:
        # the overall table is public too, so a count hidden in one group must not follow
        # from the total and the other groups: complements as suppression_mask chooses.
        # n is the same at every N: one choice of complements for all rows of a group
        sizes = out.groupby("group", sort=False)["n"].first().astype("int64")
        hidden = suppression_mask(sizes.to_frame(), min_cell=min_cell)["n"]
        hide_n |= out["group"].map(hidden).astype(bool)
        followed = out["at_risk"].notna()
        for _, rows in out[followed].groupby("months", sort=False).groups.items():
            counts = out.loc[rows, ["at_risk", "events"]].astype("int64")
            for col, hide in (("at_risk", hide_risk), ("events", hide_events)):
                # a small group's counts are hidden even when 0: count them as small here
                tiny = small_group.loc[rows].to_numpy() & (counts[col] == 0).to_numpy()
                forced = counts[[col]].where(~tiny[:, None], 1)
                mask = suppression_mask(forced, min_cell=min_cell)[col].to_numpy()
                hide.loc[rows] = hide.loc[rows].to_numpy() | mask
    hide_risk |= small_group
    hide_events |= small_group
    small_risk = (out["at_risk"] > 0) & (out["at_risk"] < min_cell)
    hide_estimate = small_group | hide_events | small_risk
    out["n"] = out["n"].where(~hide_n)
    out["at_risk"] = out["at_risk"].where(~hide_risk)
    out["events"] = out["events"].where(~hide_events)
    for col in ("estimate", "se", "ci_lower", "ci_upper"):
        out[col] = out[col].where(~hide_estimate)
    return hide_n | hide_risk | hide_events | hide_estimate


def early_closure(
    matches: pd.DataFrame,
    *,
    cutoff: Any,
    months: int | Sequence[int] = (3, 6, 12),
    by: Any = None,
    planned_reasons: Sequence[str] = PLANNED_REASONS,
    start: str = "start_date",
    end: str = "end_date",
    reason: str = "closure_reason",
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Share of matches that ended for an unplanned reason within ``N`` calendar months.

    This is the one definition of early closure in tim_research; the views, the key numbers
    and the notebooks call it. For each ``N`` it is the cumulative incidence (Aalen-Johansen)
    of an unplanned ending before ``N`` calendar months, planned completion competing:

    - **unplanned ending** (the event): the match closed (end date on or before ``cutoff``)
      for a reason not in ``planned_reasons``, or with no recorded reason;
    - **planned completion** (the competing ending): it closed for a reason in
      ``planned_reasons``; it can no longer close early, and is not counted as if it could
      (as ``1 - Kaplan-Meier`` with completions censored would);
    - **open** matches, including those whose end date is after ``cutoff``, are censored at
      ``cutoff``: every match counts for as long as it has been followed, and a recent match
      is not left out.

    Time is counted in **calendar months** since the start date: a match that stopped ``m``
    calendar months after its start and ``f`` of the way to the ``m + 1``-month date lasted
    ``m + f`` months (3 months after 15 January is 15 April; a start on the 31st reaches its
    month points on the last day of shorter months). "Within ``N`` months" means before the
    ``N``-month date, so the estimate is the incidence just *before* ``N`` (its left limit): a
    match that ends on its ``N``-month date lasted ``N`` months and is not early. This is the
    rule of the ``early_closure_<N>m`` flags of
    :func:`~tim_research.stats.survival.match_durations`; ``duration_months`` there counts
    average-length (365.25 / 12 day) months and is not used here.

    Parameters
    ----------
    matches
        One row per match (unique index) with start date, end date and closure reason
        columns (dates as datetime64 or ISO strings; a missing end date means open).
    cutoff
        Date the data were drawn (anything ``pandas.Timestamp`` accepts).
    months
        The ``N`` values, whole months of 1 or more (reported in increasing order).
    by
        Optional groups: the name of a column of ``matches``, or a Series with the same
        index labels as ``matches`` (e.g. the site of each match). No label may be missing.
    planned_reasons
        Closure reasons that mean the match ran its planned course; ``()`` makes every
        ending an event (then the estimate is ``1 - Kaplan-Meier`` of any ending).
    start, end, reason
        Column names of the start date, end date and closure reason.
    conf_level
        Coverage of survfit's log-transformed pointwise interval,
        ``estimate * exp(+/- z se / estimate)`` (upper limit capped at 1; none when the
        estimate is 0, except ``[0, 0]`` before any follow-up time).
    min_cell
        Masked: a whole group of 1 to ``min_cell - 1`` matches; ``at_risk`` and ``events``
        from 1 to ``min_cell - 1``; with ``by``, further counts of the same column and ``N``
        as :func:`tim_research.privacy.suppression_mask` decides (the overall figures are
        taken as known); the estimate, se and interval where the events are masked or fewer
        than ``min_cell`` matches are at risk. A
        :class:`~tim_research.errors.SmallCellWarning` says how many rows. ``0`` shows all.

    Returns
    -------
    pandas.DataFrame
        One row per ``N`` (and group, sorted): ``months``, the group column (when ``by`` is
        given: the column's name, the Series' name, or ``"group"`` for an unnamed Series),
        ``n`` (matches), ``at_risk`` (matches still open and followed on their ``N``-month
        date), ``events`` (unplanned endings before ``N`` months), ``estimate`` (cumulative
        incidence), ``se`` (infinitesimal jackknife, as survfit), ``ci_lower``, ``ci_upper``,
        ``suppressed`` and ``note`` (why a row is empty: masked, or no match of the group was
        followed for ``N`` months while some were still open). Counts are floats so that
        they can be masked.

    Examples
    --------
    >>> m = pd.DataFrame({
    ...     "start_date": ["2023-01-01", "2023-01-01", "2023-01-31", "2023-01-01",
    ...                    "2024-05-01", "2023-06-01"],
    ...     "end_date": ["2023-03-31", "2023-04-01", "2023-04-30", "2023-02-15", None, None],
    ...     "closure_reason": ["moved", "moved", "moved", "planned completion", None, None],
    ... }, index=["a", "b", "c", "d", "e", "f"])
    >>> t = early_closure(m, cutoff="2024-06-30", months=[3, 12], min_cell=0)
    >>> t[["months", "n", "at_risk", "events", "estimate"]].round(4)
       months    n  at_risk  events  estimate
    0       3  6.0      3.0     1.0    0.2083
    1      12  6.0      1.0     3.0    0.6250

    ``d`` completed as planned after 1.5 months and leaves the risk set without closing
    early; ``e``, open for 2 months, is followed for those 2 months. Only ``a`` closed before
    its 3-month date, when 4 matches were still open, so the estimate at 3 months is
    ``(5/6)(1/4) = 5/24``. ``b`` ended on 1 April, its 3-month date (90 days, under 3
    average-length months), and ``c`` on 30 April, the 3-month date of a start on 31 January:
    both lasted 3 months and count by 12 months, when the estimate is
    ``5/24 + (5/6)(3/4)(2/3) = 15/24``.

    R: ``summary(survfit(Surv(time, state) ~ 1), times = N - 1e-9)`` with ``time`` in
    calendar months as above and ``state`` a factor (censored, unplanned, planned); see
    ``tests/reference/competing_reference.R``.
    """
    check_frame(matches, "matches")
    points = [months] if isinstance(months, int | np.integer) else list(months)
    bad = [n for n in points if isinstance(n, bool) or not isinstance(n, int | np.integer)]
    if not points or bad or any(n < 1 for n in points):
        raise DataError(f"months must be whole numbers of 1 or more, got {points}")
    min_cell = check_min_cell(min_cell)
    check_conf_level(conf_level)
    if reason not in matches.columns:
        raise DataError(
            f"matches has no column {reason!r}; pass reason= to name the closure-reason column "
            f"(found: {list(matches.columns)})"
        )
    if matches.empty:
        raise DataError("matches has no rows; there is no closure rate to compute")
    if isinstance(planned_reasons, str):
        planned_reasons = (planned_reasons,)
    points = sorted({int(n) for n in points})
    d = match_durations(
        matches,
        cutoff=cutoff,
        start=start,
        end=end,
        reason=reason,
        early_months=(),
        planned_reasons=tuple(planned_reasons),
    )
    starts = _dates(matches, start)
    stops = _dates(matches, end).where(d["closed"].to_numpy(), _cutoff(cutoff, starts))
    t = _calendar_months(starts, stops)
    # 0 = unplanned ending, 1 = planned completion, -1 = open (censored at the cut-off)
    cause = np.where(
        d["unplanned_closure"].to_numpy(dtype=bool),
        0,
        np.where(d["planned_completion"].to_numpy(dtype=bool), 1, -1),
    )
    groups = _match_groups(matches, by)
    z = NormalDist().inv_cdf(1 - (1 - conf_level) / 2)
    labels = ["(all)"] if groups is None else groups.drop_duplicates().sort_values().tolist()
    rows = []
    for label in labels:
        sel = np.ones(t.size, bool) if groups is None else (groups == label).to_numpy()
        for n in points:
            row: dict[str, Any] = {"group": label, "months": n, "n": float(sel.sum())}
            last = t[sel].max()
            # beyond the last follow-up the curve is known only if every match had ended
            if last >= n or (cause[sel][t[sel] == last] >= 0).all():
                row |= _left_limit(t[sel], cause[sel], n, z)
            rows.append(row)
    cols = ["at_risk", "events", "estimate", "se", "ci_lower", "ci_upper"]
    out = pd.DataFrame(rows).reindex(columns=["months", "group", "n", *cols])
    out = out.astype({"months": "int64"}).astype(dict.fromkeys(cols, float))
    out["group"] = out["group"].astype(object if groups is None else groups.dtype)
    out = out.sort_values("months", kind="stable").reset_index(drop=True)
    followed = out["at_risk"].notna().to_numpy()
    suppressed = np.zeros(len(out), dtype=bool)
    if min_cell > 0:
        suppressed = _suppress_early(out, min_cell, groups is not None).to_numpy()
    out["suppressed"] = suppressed
    out["note"] = np.where(
        ~followed,
        "not followed this long",
        np.where(suppressed, f"masked: fewer than {min_cell} matches", ""),
    )
    if groups is None:
        out = out.drop(columns="group")
    else:
        out = out.rename(columns={"group": groups.name})
    n_masked = int(out["suppressed"].sum())
    if n_masked:
        warnings.warn(
            f"early closure: {n_masked} row(s) masked (fewer than min_cell={min_cell} "
            "matches at risk or closed early, or to protect one)",
            SmallCellWarning,
            stacklevel=2,
        )
    return out
