"""Associations between scores: correlations with CIs and tidy linear regressions.

Checked against R (``tests/reference/associations_reference.R``):

* :func:`correlation` follows ``cor.test(x, y)`` (Pearson r, t test, Fisher z interval);
* :func:`linear_regression` follows ``summary(lm(formula))`` and ``confint()`` (OLS, treatment
  coding of factors with the first category as reference, rows with a missing value left out
  and counted).

Change between two waves is :func:`tim_research.stats.outcomes.change_table`.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
from scipy import stats

from tim_research._checks import check_conf_level as _check_conf
from tim_research._checks import check_frame as _check_frame
from tim_research._checks import show_labels as _show
from tim_research.errors import DataError

__all__ = [
    "Correlation",
    "LinearFit",
    "correlation",
    "linear_regression",
    "stack_coefficients",
]


def _numeric_column(data: pd.DataFrame, name: str, role: str) -> np.ndarray:
    if name not in data.columns:
        raise DataError(
            f"{role} column {name!r} is not in data; columns are {_show(list(data.columns))}"
        )
    col = data[name]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise DataError(
            f"{role} column {name!r} must be numeric, got {col.dtype}; convert it first "
            "(e.g. with pd.to_numeric)"
        )
    values = col.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(values).any():
        rows = data.index[np.isinf(values)]
        raise DataError(f"{role} column {name!r} is infinite in rows {_show(rows)}; fix them")
    return values


def _scalar_frame(obj: object, skip: Sequence[str] = ()) -> pd.DataFrame:
    row: dict[str, object] = {}
    for f in fields(obj):  # type: ignore[arg-type]
        if f.name in skip:
            continue
        value = getattr(obj, f.name)
        if isinstance(value, tuple) and len(value) == 2 and f.name.endswith("ci"):
            row["ci_lower"], row["ci_upper"] = value
        else:
            row[f.name] = value
    return pd.DataFrame([row])


# ------------------------------------------------------------------------------------------------
# correlation
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Correlation:
    """Pearson correlation of two columns (see :func:`correlation`).

    ``t``, ``df``, ``p`` and ``ci`` are those of R's ``cor.test(x, y)``: two-sided t test of
    r = 0 and the Fisher z interval. ``n`` counts complete pairs; ``n_excluded`` the rows left
    out because ``x`` or ``y`` was missing.
    """

    x: str
    y: str
    r: float
    ci: tuple[float, float]
    t: float
    df: int
    p: float
    n: int
    n_excluded: int
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame; the interval becomes ``ci_lower``/``ci_upper``."""
        return _scalar_frame(self)

    def _repr_html_(self) -> str:
        title = f"Pearson correlation of {self.x} and {self.y}"
        return f"<div><strong>{html.escape(title)}</strong>{self.to_frame().T.to_html()}</div>"


def correlation(data: pd.DataFrame, x: str, y: str, *, conf_level: float = 0.95) -> Correlation:
    """Pearson correlation with its t test and Fisher z confidence interval, as ``cor.test``.

    Parameters
    ----------
    data
        One row per person.
    x, y
        Numeric columns. Rows where either is missing are left out and counted in
        ``n_excluded``.
    conf_level
        Coverage of the interval: ``tanh(atanh(r) -/+ z / sqrt(n - 3))`` with ``z`` the normal
        quantile at ``1 - (1 - conf_level) / 2``.

    Returns
    -------
    Correlation

    Raises
    ------
    DataError
        A column is missing or not numeric, fewer than 4 complete pairs (the interval needs
        ``n > 3``), or a column does not vary.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6], "b": [2.0, 1, 4, 3, 6, 5]},
    ...                  index=list("qwerty"))
    >>> res = correlation(d, "a", "b")
    >>> round(res.r, 3), res.n, res.df
    (0.829, 6, 4)
    """
    _check_frame(data)
    _check_conf(conf_level)
    a = _numeric_column(data, x, "x")
    b = _numeric_column(data, y, "y")
    keep = ~np.isnan(a) & ~np.isnan(b)
    n = int(keep.sum())
    if n < 4:
        raise DataError(
            f"correlation of {x!r} and {y!r} needs at least 4 complete pairs for its interval, "
            f"got {n} ({int((~keep).sum())} rows have a missing value)"
        )
    a, b = a[keep], b[keep]
    flat = [name for name, v in ((x, a), (y, b)) if not np.ptp(v) > 0]
    if flat:
        raise DataError(
            f"{_show(flat)} does not vary in the complete pairs, so the correlation is undefined"
        )
    ac, bc = a - a.mean(), b - b.mean()
    r = float(np.sum(ac * bc) / math.sqrt(np.sum(ac * ac) * np.sum(bc * bc)))
    r = min(1.0, max(-1.0, r))
    df = n - 2
    t = r * math.sqrt(df / (1.0 - r * r)) if abs(r) < 1 else math.copysign(math.inf, r)
    p = float(2.0 * stats.t.sf(abs(t), df))
    z = math.atanh(r) if abs(r) < 1 else math.copysign(math.inf, r)
    half = stats.norm.ppf(1.0 - (1.0 - conf_level) / 2.0) / math.sqrt(n - 3)
    return Correlation(
        x=x,
        y=y,
        r=r,
        ci=(math.tanh(z - half), math.tanh(z + half)),
        t=t,
        df=df,
        p=p,
        n=n,
        n_excluded=int((~keep).sum()),
        conf_level=float(conf_level),
    )


# ------------------------------------------------------------------------------------------------
# linear regression
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinearFit:
    """An ordinary least squares fit (see :func:`linear_regression`).

    Attributes
    ----------
    coefficients
        One row per model coefficient, indexed by a readable ``term`` (e.g.
        ``"supervision: weekly (vs monthly)"``), with ``coefficient`` (the formula's own name,
        e.g. ``supervision[T.weekly]``), ``estimate``, ``se``, ``t``, ``df``, ``p``,
        ``ci_lower``, ``ci_upper`` and ``n``.
    n, n_excluded
        Rows used, and rows left out because a variable of the formula was missing.
    r_squared, adj_r_squared, sigma, f, f_df1, f_df2, f_p
        As in R's ``summary(lm(...))``: R-squared, adjusted R-squared, residual standard error
        and the overall F test.
    """

    formula: str
    outcome: str
    coefficients: pd.DataFrame
    n: int
    n_excluded: int
    r_squared: float
    adj_r_squared: float
    sigma: float
    f: float
    f_df1: int
    f_df2: int
    f_p: float
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table."""
        return self.coefficients

    def summary(self) -> pd.DataFrame:
        """One-row DataFrame of the model-level statistics."""
        return _scalar_frame(self, skip=("coefficients",))

    def _repr_html_(self) -> str:
        title = f"Linear regression: {self.formula} (n = {self.n}, R² = {self.r_squared:.3f})"
        return f"<div><strong>{html.escape(title)}</strong>{self.coefficients.to_html()}</div>"


_FACTOR_TERM = re.compile(r"^(?:C\()?(?P<var>[A-Za-z_][A-Za-z0-9_.]*)\)?\[T\.(?P<level>.+)\]$")


def _term_labels(names: Sequence[str], data: pd.DataFrame, design_info: object) -> list[str]:
    """Readable labels: ``var: level (vs reference)`` for treatment-coded factor columns."""
    refs: dict[str, str] = {}
    for factor, info in design_info.factor_infos.items():  # type: ignore[attr-defined]
        if info.type == "categorical" and info.categories:
            m = re.match(r"^(?:C\()?([A-Za-z_][A-Za-z0-9_.]*)\)?$", factor.name())
            if m:
                refs[m.group(1)] = str(info.categories[0])
    labels = []
    for name in names:
        m = _FACTOR_TERM.match(name)
        if m and m["var"] in refs and m["var"] in data.columns:
            labels.append(f"{m['var']}: {m['level']} (vs {refs[m['var']]})")
        elif name.startswith("I(") and name.endswith(")"):
            labels.append(name[2:-1].strip())  # I(hours / 10) -> "hours / 10"
        else:
            labels.append(name)
    return labels


def linear_regression(data: pd.DataFrame, formula: str, *, conf_level: float = 0.95) -> LinearFit:
    """Ordinary least squares from a formula, as a tidy table like R's ``lm`` and ``confint``.

    Parameters
    ----------
    data
        One row per person (or per unit of analysis).
    formula
        A patsy formula such as ``"stss_score ~ caseload + supervision + training_hours"``.
        Categorical columns are treatment-coded with their first category as the reference
        (a pandas Categorical keeps its category order; other text columns are sorted, as R's
        ``factor`` does).
    conf_level
        Coverage of the coefficient intervals (``confint(fit, level=conf_level)``).

    Returns
    -------
    LinearFit
        ``coefficients`` holds ``estimate``, ``se``, ``t``, ``df``, ``p``, ``ci_lower``,
        ``ci_upper`` and ``n`` for each term. Rows with a missing value in any variable of the
        formula are left out (R's ``na.omit``) and counted in ``n_excluded``.

    Raises
    ------
    DataError
        The formula names a column that is not in ``data`` or cannot be evaluated, fewer rows
        than coefficients remain, or the design matrix is rank deficient (a term is a copy or
        a combination of others).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1.0, 3, 2, 5, 4, 6], "x": [1.0, 2, 3, 4, 5, 6],
    ...                   "g": ["a", "b", "a", "b", "a", "b"]}, index=[9, 3, 5, 1, 7, 2])
    >>> fit = linear_regression(d, "y ~ x + g")
    >>> fit.coefficients["estimate"].round(3).to_dict()
    {'Intercept': 0.083, 'g: b (vs a)': 1.583, 'x': 0.75}
    """
    _check_frame(data)
    _check_conf(conf_level)
    if not isinstance(formula, str) or "~" not in formula:
        raise DataError(f"formula must be a string like 'y ~ x1 + x2', got {formula!r}")
    frame = data.copy()
    for col in frame.columns:
        dtype = frame[col].dtype
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_numeric_dtype(
            dtype
        ):
            # nullable integers/floats: patsy needs plain floats with NaN for missing
            frame[col] = frame[col].astype("float64")
    try:
        y, x = patsy.dmatrices(formula, frame, NA_action="drop", return_type="dataframe")
    except patsy.PatsyError as err:
        raise DataError(
            f"formula {formula!r} cannot be evaluated on data ({str(err).splitlines()[0]}); "
            f"columns are {_show(list(data.columns))}"
        ) from None
    n, k = x.shape
    n_excluded = len(data) - n
    if n <= k:
        raise DataError(
            f"{formula!r} has {k} coefficients but only {n} complete rows ({n_excluded} rows "
            "have a missing value); use fewer terms or more data"
        )
    rank = np.linalg.matrix_rank(x.to_numpy())
    if rank < k:
        raise DataError(
            f"{formula!r}: the design matrix has rank {rank} < {k} coefficients, so some terms "
            f"are copies or combinations of others (columns {_show(list(x.columns))}); drop one, "
            "or check for a category present in no complete row"
        )
    fit = sm.OLS(y.iloc[:, 0], x).fit()
    df = int(fit.df_resid)
    tq = stats.t.ppf(1.0 - (1.0 - conf_level) / 2.0, df)
    est = fit.params.to_numpy()
    se = fit.bse.to_numpy()
    names = list(x.columns)
    table = pd.DataFrame(
        {
            "coefficient": names,
            "estimate": est,
            "se": se,
            "t": est / se,
            "df": df,
            "p": 2.0 * stats.t.sf(np.abs(est / se), df),
            "ci_lower": est - tq * se,
            "ci_upper": est + tq * se,
            "n": n,
        },
        index=pd.Index(_term_labels(names, data, x.design_info), name="term"),
    )
    has_intercept = "Intercept" in names
    df1 = k - 1 if has_intercept else k
    f = float(fit.fvalue) if df1 > 0 else math.nan
    return LinearFit(
        formula=formula,
        outcome=str(y.columns[0]),
        coefficients=table,
        n=int(n),
        n_excluded=int(n_excluded),
        r_squared=float(fit.rsquared),
        adj_r_squared=float(fit.rsquared_adj),
        sigma=float(math.sqrt(fit.scale)),
        f=f,
        f_df1=int(df1),
        f_df2=df,
        f_p=float(stats.f.sf(f, df1, df)) if df1 > 0 else math.nan,
        conf_level=float(conf_level),
    )


def stack_coefficients(fits: Mapping[str, LinearFit], *, intercept: bool = False) -> pd.DataFrame:
    """Coefficients of several fits in one table, indexed by ``"<name>: <term>"``.

    Parameters
    ----------
    fits
        Fits by a short name (e.g. the outcome's label); the table keeps this order.
    intercept
        Keep the intercept rows (default: left out, as a forest plot of effects needs).

    Returns
    -------
    pandas.DataFrame
        The columns of :attr:`LinearFit.coefficients` plus ``model``; the index (named
        ``term``) joins the model name and the term, so ``plots.forest`` can draw it.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1.0, 3, 2, 5, 4], "z": [2.0, 1, 4, 3, 5], "x": [1.0, 2, 3, 4, 5]})
    >>> both = stack_coefficients({"Y": linear_regression(d, "y ~ x"),
    ...                            "Z": linear_regression(d, "z ~ x")})
    >>> list(both.index)
    ['Y: x', 'Z: x']
    """
    if not isinstance(fits, Mapping) or not fits:
        raise DataError("fits must be a non-empty mapping of name -> LinearFit")
    parts = []
    for name, fit in fits.items():
        if not isinstance(fit, LinearFit):
            raise DataError(f"fits[{name!r}] is a {type(fit).__name__}, not a LinearFit")
        table = fit.coefficients
        if not intercept:
            table = table[table["coefficient"] != "Intercept"]
        table = table.assign(model=name)
        table.index = pd.Index([f"{name}: {t}" for t in table.index], name="term")
        parts.append(table)
    return pd.concat(parts)
