"""Prevalence of a 0/1 indicator, simple or design-based, with small-cell suppression.

Unweighted estimates use the Wilson score interval (``prop.test(correct = FALSE)`` in R).
Weighted estimates use Taylor linearisation of the ratio mean for single-stage designs, with
strata, clusters (PSUs) and finite population correction, as ``survey::svymean`` / ``svyby``
with ``svydesign(ids = ~psu, strata = ~strata, weights = ~w, fpc = ~fpc, nest = TRUE)``;
see ``tests/reference/survival_survey_reference.R``. Multi-stage samples are analysed through
their first stage only (``tests/reference/survey_multistage_reference.R``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from tim_research._checks import check_min_cell
from tim_research.errors import DataError, SmallCellWarning
from tim_research.privacy import suppression_mask

__all__ = ["distribution", "indicators", "prevalence", "prevalence_grid"]

_MAX_SHOWN = 8
NOTE_SMALL = "masked: fewer than min_cell events or non-events"
NOTE_COMPLEMENT = "masked to protect a small cell in another group (complementary suppression)"
NOTE_EMPTY = "no non-missing values"


def _labels(index: pd.Index, positions: np.ndarray) -> str:
    shown = [repr(index[i]) for i in positions[:_MAX_SHOWN]]
    more = len(positions) - len(shown)
    return "rows " + ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _indicator(data: pd.DataFrame, indicator: str) -> np.ndarray:
    """0/1/bool column -> float array with NaN for missing; anything else raises."""
    col = data[indicator]
    missing = col.isna().to_numpy()
    if pd.api.types.is_bool_dtype(col):
        y = np.where(missing, np.nan, col.to_numpy(dtype=object, na_value=False).astype(float))
        return y.astype(float)
    if not pd.api.types.is_numeric_dtype(col):
        bad = np.flatnonzero(~missing)
        shown = sorted({repr(v) for v in col.iloc[bad[:_MAX_SHOWN]]})
        raise DataError(
            f"indicator {indicator} must be 0/1 or True/False (NaN = missing); it has dtype "
            f"{col.dtype} with values {', '.join(shown)}; recode it, e.g. "
            f"data[{indicator!r}].eq('Yes').astype(float).where(data[{indicator!r}].notna())"
        )
    y = col.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.flatnonzero(~np.isnan(y) & ~np.isin(y, (0.0, 1.0)))
    if bad.size:
        values = ", ".join(str(v) for v in sorted(set(y[bad].tolist()))[:_MAX_SHOWN])
        raise DataError(
            f"indicator {indicator} must be 0/1 (NaN = missing); found {values} at "
            f"{_labels(data.index, bad)}; recode those values"
        )
    return y


def _column(data: pd.DataFrame, name: str, role: str) -> pd.Series:
    col = data[name]
    missing = np.flatnonzero(col.isna().to_numpy())
    if missing.size:
        raise DataError(
            f"{role} column {name} has missing values at {_labels(data.index, missing)}; "
            "every row needs a value: fill them in or drop those rows explicitly"
        )
    return col


def _numeric(data: pd.DataFrame, name: str, role: str) -> np.ndarray:
    col = _column(data, name, role)
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise DataError(f"{role} column {name} must be numeric, got dtype {col.dtype}")
    values = col.to_numpy(dtype="float64")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError(f"{role} column {name} has infinite values at {_labels(data.index, bad)}")
    return values


def _codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes ``0 .. k - 1`` of the distinct values (equal values, equal codes), and k.

    Integers spanning a range at most twice their number (row ids, combined codes) are coded
    through a lookup table over that range, several times faster than hashing millions of
    distinct values, with the table no larger than about the codes themselves; the codes then
    follow the sorted values. Anything else is hashed by :func:`pandas.factorize` (codes in
    order of first appearance).
    """
    arr = values.to_numpy() if isinstance(values, pd.Series) else values
    if arr.dtype.kind in "iu" and arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        span = hi - lo + 1
        if span <= max(2 * arr.size, 1 << 16) and hi < 2**63:
            offset = arr.astype(np.int64, copy=lo != 0)  # never write into the caller's data
            if lo:
                offset -= lo
            used = np.zeros(span, dtype=bool)
            used[offset] = True
            rank = np.cumsum(used, dtype=np.int64)
            del used
            codes = rank[offset]
            codes -= 1
            return codes, int(rank[-1])
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64, copy=False), len(uniques)


def _nest(
    labels: np.ndarray, n_labels: int, strata: np.ndarray, n_strata: int
) -> tuple[np.ndarray, np.ndarray]:
    """PSU code of each row and stratum of each PSU, a PSU being a (stratum, label) pair."""
    label_stratum = np.zeros(n_labels, dtype=np.int64)
    label_stratum[labels] = strata
    if n_strata == 1 or np.array_equal(label_stratum[labels], strata):
        # no label is used in two strata (ids unique across the sample): labels are PSUs
        return labels, label_stratum
    del label_stratum
    p_codes, n_psu = _codes(strata * n_labels + labels)
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[p_codes] = strata
    return p_codes, psu_stratum


_MULTI_STAGE_FIX = (
    "prevalence supports single-stage designs only: for a multi-stage sample (e.g. districts, "
    "then schools within them) give the first-stage units as psu= and either no fpc or the "
    "first-stage fpc (population number of PSUs per stratum, or the first-stage sampling "
    "fraction), never a second-stage fpc; the SE is then the first-stage estimate, as R's "
    "svydesign(ids = ~psu, fpc = ~fpc1)"
)


def _refuse_stages(psu: object, fpc: object) -> None:
    """Refuse several psu or fpc columns, R's ``ids = ~psu + ssu`` / ``fpc = ~fpc1 + fpc2``."""
    for role, value in (("psu", psu), ("fpc", fpc)):
        if isinstance(value, list | tuple):
            raise DataError(
                f"{role} was given as several columns ({len(value)}), which describes a "
                f"multi-stage design; {_MULTI_STAGE_FIX}"
            )


class _Design:
    """Strata, PSUs and finite population correction of a one-stage design."""

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str | None,
        strata: str | None,
        psu: str | None,
        fpc: str | None,
    ) -> None:
        n = len(data)
        if weights is None:
            if fpc is not None:
                raise DataError(
                    "fpc was given without weights: pass weights= (the design weights, "
                    "1 / selection probability); use a column of ones for a self-weighting design"
                )
            self.w = np.ones(n)
        else:
            self.w = _numeric(data, weights, "weights")
            neg = np.flatnonzero(self.w < 0)
            if neg.size:
                raise DataError(
                    f"weights column {weights} has negative values at "
                    f"{_labels(data.index, neg)}; design weights must be >= 0"
                )
        if strata is None:
            s_codes = np.zeros(n, dtype=np.int64)
            s_labels: list = ["(all)"]
        else:
            s_codes, uniq = pd.factorize(_column(data, strata, "strata"), sort=True)
            s_codes = s_codes.astype(np.int64, copy=False)
            s_labels = list(uniq)
        if psu is None:
            p_codes = np.arange(n, dtype=np.int64)
            psu_stratum = s_codes.copy()
        else:
            # PSUs nested within strata (nest = TRUE): a PSU is a (stratum, label) pair
            labels, n_labels = _codes(_column(data, psu, "psu"))
            p_codes, psu_stratum = _nest(labels, n_labels, s_codes, len(s_labels))
        n_psu_total = psu_stratum.size
        n_h = np.bincount(psu_stratum, minlength=len(s_labels)).astype(float)

        f_h = np.zeros(len(s_labels))
        if fpc is not None:
            values = _numeric(data, fpc, "fpc")
            lo = pd.Series(values).groupby(s_codes).min().to_numpy()
            hi = pd.Series(values).groupby(s_codes).max().to_numpy()
            differ = [s_labels[h] for h in np.flatnonzero(lo != hi)]
            if differ:
                by_psu = pd.Series(values).groupby(p_codes)
                if psu is not None and (by_psu.min() == by_psu.max()).all():
                    # one value per PSU that differs between PSUs is what a second-stage fpc
                    # (e.g. the number of schools in each sampled district) looks like
                    where = (
                        "between PSUs" if strata is None else f"within strata {differ[:_MAX_SHOWN]}"
                    )
                    raise DataError(
                        f"fpc column {fpc} holds one value per PSU, varying {where}: that is a "
                        f"second-stage fpc of a multi-stage design; {_MULTI_STAGE_FIX}"
                    )
                raise DataError(
                    f"fpc column {fpc} varies within strata {differ[:_MAX_SHOWN]}; it must hold "
                    "one value per stratum (population size or sampling fraction). A value per "
                    f"PSU or per person is a later-stage fpc: {_MULTI_STAGE_FIX}"
                )
            if (values <= 0).any():
                raise DataError(f"fpc column {fpc} must be positive")
            if (values <= 1).all():
                f_h = lo  # sampling fractions
            else:
                short = [s_labels[h] for h in np.flatnonzero(lo < n_h)]
                if short:
                    raise DataError(
                        f"fpc column {fpc} is smaller than the number of sampled PSUs in strata "
                        f"{short[:_MAX_SHOWN]}; give population sizes (number of PSUs in the "
                        "population) or sampling fractions, not a mixture. If it counts "
                        f"second-stage units within each PSU: {_MULTI_STAGE_FIX}"
                    )
                f_h = n_h / lo
        lonely = np.flatnonzero((n_h == 1) & (f_h < 1))
        if lonely.size:
            names = [s_labels[h] for h in lonely]
            raise DataError(
                f"strata {names[:_MAX_SHOWN]} have only one PSU, so their sampling variance "
                "cannot be estimated (R's survey fails the same way with its default "
                "options(survey.lonely.psu = 'fail')). Options: collapse each such stratum "
                "with a similar one (recode the strata column); if the PSU was selected with "
                "certainty, give fpc equal to the sample size so the stratum adds no variance; "
                "or analyse without strata= if the design allows"
            )
        self.p_codes = p_codes
        self.psu_per_row = psu is None
        self.psu_stratum = psu_stratum
        self.n_h = n_h
        self.n_psu_total = n_psu_total
        with np.errstate(divide="ignore", invalid="ignore"):
            self.scale = np.where(n_h > 1, (1 - f_h) * n_h / (n_h - 1), 0.0)

    def domain_means(
        self, y: np.ndarray, present: np.ndarray, groups: np.ndarray, n_groups: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Weighted mean of ``y`` in every domain and its linearisation standard error.

        Parameters
        ----------
        y
            Indicator values, 0 where missing.
        present
            True where the indicator was observed (the domain is ``groups == g & present``).
        groups
            Domain code of every row, ``0 .. n_groups - 1``; the domains partition the rows.
        n_groups
            Number of domains.

        Returns
        -------
        tuple of numpy.ndarray
            Estimate and standard error per domain, NaN where the domain's weights sum to 0.

        Notes
        -----
        Each domain is estimated on the full design, as ``svyby``: its linearised variable
        ``z = w (y - estimate) / total`` is 0 outside the domain, and the PSUs of a stratum
        that hold none of the domain's rows still count in ``n_h``. Since the domains
        partition the rows, every row has a non-zero ``z`` in its own domain only, so all
        domains come from one pass over the rows: ``z`` summed per (domain, PSU) cell, then
        per (domain, stratum) pair the squared deviations of the cells from the stratum mean,
        plus ``mean ** 2`` for each PSU of the stratum without rows of the domain.
        """
        w = np.where(present, self.w, 0.0)
        total = np.bincount(groups, weights=w, minlength=n_groups)
        ok = total > 0
        safe_total = np.where(ok, total, 1.0)
        est = np.bincount(groups, weights=w * y, minlength=n_groups) / safe_total
        # z of each row in its own domain, w (y - est) / total, computed in place to keep the
        # peak memory low; rows of the other domains add 0 to a domain's sums
        z = est[groups]
        np.subtract(y, z, out=z)
        z *= w
        del w
        z /= safe_total[groups]
        cells, cell_stratum, cell_group = self._cells(groups)
        zt = np.bincount(cells, weights=z, minlength=cell_stratum.size)
        del z, cells
        key = cell_group * self.n_h.size
        key += cell_stratum
        pairs, n_pairs = _codes(key)  # (domain, stratum) pairs
        del key
        pair_group = np.zeros(n_pairs, dtype=np.int64)
        pair_group[pairs] = cell_group
        pair_stratum = np.zeros(n_pairs, dtype=np.int64)
        pair_stratum[pairs] = cell_stratum
        del cell_group, cell_stratum
        n_h = self.n_h[pair_stratum]
        mean = np.bincount(pairs, weights=zt, minlength=n_pairs) / n_h
        dev = mean[pairs]
        np.subtract(zt, dev, out=dev)
        dev *= dev
        ss = np.bincount(pairs, weights=dev, minlength=n_pairs)
        # PSUs of the stratum holding no rows of the domain: z total 0, deviation -mean
        ss += (n_h - np.bincount(pairs, minlength=n_pairs)) * mean**2
        var = np.bincount(pair_group, weights=self.scale[pair_stratum] * ss, minlength=n_groups)
        return np.where(ok, est, np.nan), np.where(ok, np.sqrt(var), np.nan)

    def _cells(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Code of each row's (domain, PSU) cell, and each cell's stratum and domain."""
        if self.psu_per_row:
            return self.p_codes, self.psu_stratum, groups
        psu_group = np.zeros(self.n_psu_total, dtype=np.int64)
        psu_group[self.p_codes] = groups
        if np.array_equal(psu_group[self.p_codes], groups):
            # each PSU lies within one domain (e.g. PSUs within strata within states)
            return self.p_codes, self.psu_stratum, psu_group
        del psu_group
        key = groups * self.n_psu_total
        key += self.p_codes
        cells, n_cells = _codes(key)
        del key
        cell_stratum = np.zeros(n_cells, dtype=np.int64)
        cell_stratum[cells] = self.psu_stratum[self.p_codes]
        cell_group = np.zeros(n_cells, dtype=np.int64)
        cell_group[cells] = groups
        return cells, cell_stratum, cell_group


def prevalence(
    data: pd.DataFrame,
    indicator: str,
    *,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    strata: str | None = None,
    psu: str | None = None,
    fpc: str | None = None,
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Prevalence of a 0/1 indicator, overall or by group, with small-cell suppression.

    Parameters
    ----------
    data
        One row per person.
    indicator
        Column of 0/1 or True/False; NaN is missing: excluded and counted in ``n_missing``.
    by
        Column name or list of names: one row per group (sorted), estimated as domains of the
        full design (the design is never subset), as ``svyby(~x, ~g, design, svymean)``.
    weights
        Design-weight column. With any of ``weights``, ``strata``, ``psu``, ``fpc`` the
        estimate is design-based (Taylor linearisation, as ``survey::svymean``; missing
        indicator values are handled like ``na.rm = TRUE``, keeping the full design) and the
        CI is ``estimate +/- z * se`` (not clipped to [0, 1]), as ``confint(svymean(...))``.
        Without them the Wilson score interval is used, with ``se = sqrt(p (1 - p) / n)``.
        Unweighted design-based analysis takes equal weights.
    strata, psu
        Stratum and primary-sampling-unit columns; PSU labels are nested within strata.
        A stratum with a single PSU raises :class:`~tim_research.errors.DataError`.
        One column each: the design has a single stage (see Notes for multi-stage samples).
    fpc
        Finite population correction per stratum: population number of PSUs (values > 1)
        or sampling fractions (all values <= 1). Requires ``weights``. First stage only: a
        second-stage fpc (several columns, or one value per PSU that varies between the PSUs
        of a stratum) raises :class:`~tim_research.errors.DataError`.
    conf_level
        Confidence level.
    min_cell
        Rows whose events or non-events number from 1 to ``min_cell - 1`` get ``events``,
        ``estimate``, ``se``, ``ci_lower`` and ``ci_upper`` masked (NaN; ``se`` too since it
        would reveal the estimate), ``suppressed`` True and a ``note``. Further groups are
        masked by :func:`tim_research.privacy.suppression_mask` on the table of events and
        non-events per group, taking the group sizes ``n`` and the overall events and
        non-events as known, so that no hidden count can be worked out from them. A
        :class:`~tim_research.errors.SmallCellWarning` is issued when anything is masked.
        ``min_cell=0`` turns suppression off.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns (if any), then ``n`` (unweighted non-missing denominator),
        ``n_missing``, ``events`` (unweighted count, float so it can be masked),
        ``estimate``, ``se``, ``ci_lower``, ``ci_upper``, ``suppressed``, ``note``.

    Notes
    -----
    The design-based SE is for single-stage designs. For a multi-stage sample (e.g. school
    districts, then schools within the sampled districts) give the first-stage units as
    ``psu`` and either no ``fpc`` or the first-stage one, never a second-stage fpc; the SE is
    then the first-stage (ultimate cluster) estimate, as R's ``svydesign(ids = ~psu,
    fpc = ~fpc1)``. Without ``fpc`` it is the with-replacement approximation of the first
    stage, which carries the later stages' variance too and is usually slightly
    conservative; with the first-stage fpc the later stages' variance is left out, so the SE
    is slightly too small when the first-stage sampling fraction is large. On
    ``survey::apiclus2`` (40 of 757 districts, then up to 5 schools in each) the SE of the
    share of schools with awards is 0.0630 without fpc and 0.0613 with it, against 0.0634 for
    the full two-stage design. Giving later-stage units as ``psu`` (schools as PSUs: 0.0734)
    or first-stage units as ``strata`` describes another design and gives a wrong SE that
    cannot be detected from the data.

    Examples
    --------
    >>> d = pd.DataFrame({"ace4": [1, 0, 0, 1, 0, 1, 0, 0, None, 1] * 3})
    >>> r = prevalence(d, "ace4")
    >>> int(r.loc[0, "n"]), int(r.loc[0, "n_missing"]), round(float(r.loc[0, "estimate"]), 4)
    (27, 3, 0.4444)
    >>> round(float(r.loc[0, "ci_lower"]), 4), round(float(r.loc[0, "ci_upper"]), 4)
    (0.2759, 0.6269)

    R: ``prop.test(12, 27, correct = FALSE)$conf.int``.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    _refuse_stages(psu, fpc)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    named = [indicator, *by_cols] + [c for c in (weights, strata, psu, fpc) if c is not None]
    absent = [c for c in named if c not in data.columns]
    if absent:
        raise DataError(f"data has no column(s) {absent}; found {list(data.columns)}")
    if not 0 < conf_level < 1:
        raise DataError(f"conf_level must be between 0 and 1, got {conf_level!r}")
    min_cell = check_min_cell(min_cell)
    if len(data) == 0:
        raise DataError("data has no rows")
    z = NormalDist().inv_cdf(1 - (1 - conf_level) / 2)
    y = _indicator(data, indicator)
    present = ~np.isnan(y)
    design = (
        _Design(data, weights, strata, psu, fpc)
        if any(a is not None for a in (weights, strata, psu, fpc))
        else None
    )

    if by_cols:
        for c in by_cols:
            _column(data, c, "by")
        grouped = data.groupby(by_cols, sort=True, observed=True, dropna=False)
        codes = grouped.ngroup().to_numpy().astype(np.int64, copy=False)
        keys = grouped.size().index.to_frame(index=False)
    else:
        codes = np.zeros(len(data), dtype=np.int64)
        keys = pd.DataFrame(index=range(1))

    # every group's counts, estimate and SE in one pass over the rows, not one pass per group
    n_groups = len(keys)
    y0 = np.where(present, y, 0.0)
    n = np.bincount(codes, weights=present, minlength=n_groups).astype(np.int64)
    n_missing = np.bincount(codes, minlength=n_groups) - n
    events = np.bincount(codes, weights=y0, minlength=n_groups)
    empty = n == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if design is None:
            m = n.astype(float)  # as float, 4 * m * m cannot overflow
            est = events / m
            se = np.sqrt(est * (1 - est) / m)
            denom = 1 + z * z / m
            centre = (est + z * z / (2 * m)) / denom
            half = z / denom * np.sqrt(est * (1 - est) / m + z * z / (4 * m * m))
            # the Wilson bound is exactly 0 at no events and 1 at all events; rounding error
            # would otherwise show -0.00 or put the bound on the wrong side of the estimate
            lower = np.where(events == 0, 0.0, np.maximum(centre - half, 0.0))
            upper = np.where(events == m, 1.0, np.minimum(centre + half, 1.0))
        else:
            est, se = design.domain_means(y0, present, codes, n_groups)
            lower, upper = est - z * se, est + z * se
    del y0
    out = pd.concat(
        [
            keys,
            pd.DataFrame(
                {
                    "n": n,
                    "n_missing": n_missing,
                    "events": events,
                    **{
                        name: np.where(empty, np.nan, values)
                        for name, values in (
                            ("estimate", est),
                            ("se", se),
                            ("ci_lower", lower),
                            ("ci_upper", upper),
                        )
                    },
                }
            ),
        ],
        axis=1,
    )

    n_arr = out["n"].to_numpy(dtype=float)
    ev_arr = out["events"].to_numpy(dtype=float)
    small = ((ev_arr > 0) & (ev_arr < min_cell)) | (
        (n_arr - ev_arr > 0) & (n_arr - ev_arr < min_cell)
    )
    mask = np.zeros(len(out), dtype=bool)
    if min_cell > 0:
        # events and non-events per group; the group sizes are shown next to them and the
        # overall row (a call without by=) gives the column totals, so both count as known
        counts = pd.DataFrame({"events": ev_arr, "non_events": n_arr - ev_arr})
        mask = suppression_mask(counts, min_cell=min_cell).to_numpy().any(axis=1)
    out["suppressed"] = mask
    note = np.where(n_arr == 0, NOTE_EMPTY, "").astype(object)
    note[small] = NOTE_SMALL
    note[mask & ~small] = NOTE_COMPLEMENT
    out["note"] = note
    out.loc[mask, ["events", "estimate", "se", "ci_lower", "ci_upper"]] = np.nan
    if mask.any():
        warnings.warn(
            f"prevalence of {indicator}: {int(mask.sum())} row(s) suppressed because events or "
            f"non-events were below min_cell={min_cell} (or to protect such a row); "
            "pass min_cell=0 to turn suppression off",
            SmallCellWarning,
            stacklevel=2,
        )
    return out


def _levels_of(col: pd.Series) -> list[object]:
    """Band order: a categorical's categories (every one, used or not), else sorted values."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return list(col.cat.categories)
    return sorted(col.dropna().unique().tolist())


def prevalence_grid(
    data: pd.DataFrame,
    indicator: str,
    *,
    rows: str,
    columns: str,
    weights: str | None = None,
    strata: str | None = None,
    psu: str | None = None,
    fpc: str | None = None,
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Prevalence of a 0/1 indicator in every cell of two banded factors, e.g. ACE x PCE bands.

    The table behind the finding that positive childhood experiences go with better adult
    mental health at every level of adversity (Bethell et al. 2019, JAMA Pediatr 173(11)):
    the prevalence of an outcome by ACE band (rows) and PCE band (columns), each cell with its
    interval and small-cell suppression. It is :func:`prevalence` with ``by=[rows, columns]``,
    laid out on the full grid of bands in their order, empty cells included.

    Parameters
    ----------
    data
        One row per person.
    indicator
        Column of 0/1 or True/False (NaN = missing), as in :func:`prevalence`.
    rows, columns
        Two band columns, e.g. ``ace10_score_category`` and ``pce_score_category`` from
        :func:`tim_research.score`. A categorical keeps its category order and every
        category appears, used or not; other columns are sorted. No value may be missing:
        a person without a band is refused (score or drop them explicitly), never dropped.
    weights, strata, psu, fpc, conf_level
        As in :func:`prevalence` (Wilson intervals, or design-based with a design).
    min_cell
        As in :func:`prevalence`: cells with 1 to ``min_cell - 1`` events or non-events are
        masked, and further cells by complementary suppression on the table of events and
        non-events of the non-empty cells. Empty cells (``n`` 0) have nothing to hide.

    Returns
    -------
    pandas.DataFrame
        One row per cell, ``rows`` varying slowest: ``rows``, ``columns``, then the columns
        of :func:`prevalence` (``n``, ``n_missing``, ``events``, ``estimate``, ``se``,
        ``ci_lower``, ``ci_upper``, ``suppressed``, ``note``). Empty cells have ``n`` 0,
        ``events`` 0, a missing estimate and the note "no non-missing values".

    Examples
    --------
    >>> bands = pd.CategoricalDtype(["0-2", "3-5", "6-7"], ordered=True)
    >>> d = pd.DataFrame({
    ...     "ace": ["0", "0", "4+", "4+"] * 5,
    ...     "pce": pd.Series(["0-2", "6-7", "0-2", "6-7"] * 5, dtype=bands),
    ...     "poor_mh": [0, 0, 1, 0] * 5,
    ... })
    >>> t = prevalence_grid(d, "poor_mh", rows="ace", columns="pce", min_cell=0)
    >>> t[["ace", "pce", "n", "events", "estimate"]]
      ace  pce  n  events  estimate
    0   0  0-2  5     0.0       0.0
    1   0  3-5  0     0.0       NaN
    2   0  6-7  5     0.0       0.0
    3  4+  0-2  5     5.0       1.0
    4  4+  3-5  0     0.0       NaN
    5  4+  6-7  5     0.0       0.0
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if rows == columns:
        raise DataError(f"rows and columns must be two different columns, got {rows!r} twice")
    absent = [c for c in (rows, columns) if c not in data.columns]
    if absent:
        raise DataError(f"data has no column(s) {absent}; found {list(data.columns)}")
    found = prevalence(
        data,
        indicator,
        by=[rows, columns],
        weights=weights,
        strata=strata,
        psu=psu,
        fpc=fpc,
        conf_level=conf_level,
        min_cell=min_cell,
    )
    grid = pd.MultiIndex.from_product(
        [_levels_of(data[rows]), _levels_of(data[columns])], names=[rows, columns]
    ).to_frame(index=False)
    for name in (rows, columns):
        if isinstance(data[name].dtype, pd.CategoricalDtype):
            grid[name] = grid[name].astype(data[name].dtype)
    out = grid.merge(found, on=[rows, columns], how="left", validate="one_to_one")
    empty = out["n"].isna()
    out.loc[empty, ["n", "n_missing", "events"]] = 0
    out["n"] = out["n"].astype(np.int64)
    out["n_missing"] = out["n_missing"].astype(np.int64)
    out["suppressed"] = out["suppressed"].fillna(False).astype(bool)
    out.loc[empty, "note"] = NOTE_EMPTY
    return out


def distribution(
    data: pd.DataFrame,
    column: str,
    *,
    by: str | None = None,
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Share of each category of a column (e.g. ACE score bands), with Wilson CIs.

    Parameters
    ----------
    data
        One row per person.
    column
        Categorical column (its category order is kept) or discrete values (sorted). Missing
        values are left out of the denominator and counted in ``n_missing``.
    by
        Optional group column: one distribution per group.
    conf_level
        Confidence level of the Wilson intervals.
    min_cell
        Categories with 1 to ``min_cell - 1`` people in a group are masked (``count``,
        ``estimate`` and CI set to NaN, ``suppressed`` True), and further cells are masked by
        :func:`tim_research.privacy.suppression_mask` on the table of categories by groups,
        whose totals (each group's ``n``, each category's overall count) are taken as known,
        so that no hidden count can be worked out from them. ``min_cell=0`` turns this off.

    Returns
    -------
    pandas.DataFrame
        ``by`` (if given), ``category``, ``n`` (non-missing in the group), ``n_missing``,
        ``count``, ``estimate``, ``ci_lower``, ``ci_upper``, ``suppressed``.

    Examples
    --------
    >>> d = pd.DataFrame({"band": pd.Categorical(["0", "1", "1", "4+"] * 5,
    ...                                          categories=["0", "1", "2-3", "4+"])})
    >>> distribution(d, "band", min_cell=0)[["category", "count", "estimate"]]
      category  count  estimate
    0        0    5.0      0.25
    1        1   10.0      0.50
    2      2-3    0.0      0.00
    3       4+    5.0      0.25
    """
    min_cell = check_min_cell(min_cell)
    if column not in data.columns or (by is not None and by not in data.columns):
        raise DataError(f"data has no column {column!r}" + (f" or {by!r}" if by else ""))
    values = data[column]
    cats = (
        list(values.cat.categories)
        if isinstance(values.dtype, pd.CategoricalDtype)
        else sorted(values.dropna().unique().tolist())
    )
    missing = values.isna().to_numpy()
    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCellWarning)
        for c in cats:
            ind = pd.Series(
                np.where(missing, np.nan, (values == c).to_numpy(float)), index=data.index
            )
            frame = (
                pd.DataFrame({"_in": ind})
                if by is None
                else pd.DataFrame({"_in": ind, by: data[by]})
            )
            table = prevalence(frame, "_in", by=by, conf_level=conf_level, min_cell=0)
            table.insert(0 if by is None else 1, "category", str(c))
            parts.append(table)
    out = pd.concat(parts, ignore_index=True).rename(columns={"events": "count"})
    out = out.drop(columns=["se", "note", "suppressed"])
    if by is not None:
        order = {g: i for i, g in enumerate(pd.unique(out[by]))}
        out = out.sort_values(by, key=lambda s: s.map(order), kind="stable", ignore_index=True)
    mask = np.zeros(len(out), dtype=bool)
    if min_cell > 0:
        # one table of categories by groups: the group sizes and the overall distribution
        # (a call without by=) give its column and row totals, taken as known
        cat = pd.factorize(out["category"], sort=False)[0]
        grp = (
            np.zeros(len(out), dtype=int)
            if by is None
            else out.groupby(by, sort=False, observed=True, dropna=False).ngroup().to_numpy()
        )
        counts = np.zeros((cat.max() + 1, grp.max() + 1))
        counts[cat, grp] = out["count"].to_numpy(float)
        hidden = suppression_mask(pd.DataFrame(counts), min_cell=min_cell).to_numpy()
        mask = hidden[cat, grp]
    out["suppressed"] = mask
    out.loc[mask, ["count", "estimate", "ci_lower", "ci_upper"]] = np.nan
    if mask.any():
        warnings.warn(
            f"distribution of {column}: {int(mask.sum())} categor(ies) suppressed (fewer than "
            f"min_cell={min_cell} people, or protecting such a category); "
            "pass min_cell=0 to turn suppression off",
            SmallCellWarning,
            stacklevel=2,
        )
    return out


def indicators(
    data: pd.DataFrame,
    columns: Sequence[str],
    *,
    labels: Mapping[str, str] | None = None,
    by: str | None = None,
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Prevalence of several 0/1 indicators (e.g. each ACE category), one row per indicator.

    Parameters
    ----------
    data
        One row per person.
    columns
        The 0/1 (or boolean) columns; NaN = not answered, left out of that row's ``n``.
    labels
        Optional readable label per column, shown in a ``label`` column.
    by, conf_level, min_cell
        As in :func:`prevalence` (suppression is applied per indicator across the groups).

    Returns
    -------
    pandas.DataFrame
        ``indicator``, ``label``, ``by`` (if given), then the columns of :func:`prevalence`.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 0, 0, 1] * 5, "b": [0, 0, 0, 1] * 5})
    >>> indicators(d, ["a", "b"], min_cell=0)[["indicator", "n", "estimate"]]
      indicator   n  estimate
    0         a  20      0.50
    1         b  20      0.25
    """
    min_cell = check_min_cell(min_cell)
    labels = dict(labels or {})
    parts = []
    caught_any = False
    for col in columns:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SmallCellWarning)
            table = prevalence(data, col, by=by, conf_level=conf_level, min_cell=min_cell)
        caught_any = caught_any or bool(caught)
        table.insert(0, "label", labels.get(col, col))
        table.insert(0, "indicator", col)
        parts.append(table)
    if caught_any:
        warnings.warn(
            f"some indicators had cells below min_cell={min_cell}: those rows are suppressed",
            SmallCellWarning,
            stacklevel=2,
        )
    return pd.concat(parts, ignore_index=True)
