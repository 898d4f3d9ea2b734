"""Tests of the deeper survival estimators in tim_research.stats.survival.

Reference values come from tests/reference/survival_depth_reference.R via
tests/reference/values/survival_depth.json: survfit(ctype = 1) cumulative hazards,
survdiff(rho) and an independent base-R loop for Fleming-Harrington G(rho, gamma),
quantile.survfit, and concordance() of coxph fits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tim_research.errors import DataError, SmallCellWarning
from tim_research.stats.survival import (
    ConcordanceResult,
    ZphResult,
    concordance,
    cox,
    cox_zph,
    logrank,
    median_survival,
    nelson_aalen,
    survival_quantiles,
)

RTOL = 1e-6


def as_array(values) -> np.ndarray:
    """R vectors of length one arrive unboxed, NA as null."""
    values = values if isinstance(values, list) else [values]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_close(actual, expected, *, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), as_array(expected), rtol=rtol, atol=1e-10
    )


@pytest.fixture(scope="module")
def ref(reference_values) -> dict:
    return reference_values("survival_depth")


@pytest.fixture(scope="module")
def datasets(read_external, ref) -> dict[str, pd.DataFrame]:
    rossi = read_external("lifelines_rossi.csv")
    # rows in a shuffled order with a string index: nothing may depend on the input order
    rossi = rossi.sample(frac=1, random_state=3)
    rossi.index = [f"r{i}" for i in range(len(rossi))]
    return {
        "rossi": rossi,
        "lung": pd.DataFrame(ref["data"]["lung"]),
        "veteran": pd.DataFrame(ref["data"]["veteran"]),
    }


def columns(name: str) -> tuple[str, str, str | None]:
    """Data set, duration, event and group columns of a reference case."""
    data = name.split("_")[0]
    group = None
    for g in ("celltype", "trt", "sex", "fin"):
        if f"_{g}" in name:
            group = g
    duration = "week" if data == "rossi" else "time"
    event = "arrest" if data == "rossi" else "status"
    return data, duration, event, group


# ---------------------------------------------------------------------------------------------
# Nelson-Aalen against survfit(ctype = 1)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["rossi_fin", "lung", "veteran_celltype"])
def test_nelson_aalen_matches_survfit(case, ref, datasets):
    r = ref["nelson_aalen"][case]
    data, duration, event, group = columns(case)
    d = datasets[data]
    out = nelson_aalen(d[duration], d[event], by=None if group is None else d[group])
    assert_close(out["time"], r["time"])
    assert_close(out["at_risk"], r["n_risk"])
    assert_close(out["events"], r["n_event"])
    assert_close(out["cumhaz"], r["cumhaz"])
    assert_close(out["se"], r["std_chaz"])
    assert_close(out["ci_lower"], r["lower"])
    assert_close(out["ci_upper"], r["upper"])
    if group is not None:
        labels = [s.split("=", 1)[1] for s in r["strata"]]
        assert [str(g) for g in out["group"]] == labels


def test_nelson_aalen_conf_level_and_shape():
    out = nelson_aalen([1, 2, 2, 4], [0, 1, 1, 0], conf_level=0.9)
    assert np.isnan(out["ci_lower"].iloc[0])  # H(t) = 0 before the first event
    assert (out["ci_lower"].iloc[1:] < out["cumhaz"].iloc[1:]).all()
    wide = nelson_aalen([1, 2, 2, 4], [0, 1, 1, 0], conf_level=0.99)
    assert (wide["ci_upper"].iloc[1:] > out["ci_upper"].iloc[1:]).all()
    with pytest.raises(DataError, match="conf_level"):
        nelson_aalen([1, 2], [1, 1], conf_level=95)


# ---------------------------------------------------------------------------------------------
# weighted log-rank against survdiff(rho) and a base-R loop for G(rho, gamma)
# ---------------------------------------------------------------------------------------------
def logrank_cases(ref_json: dict) -> list[str]:
    return list(ref_json["logrank"])


@pytest.mark.parametrize(
    "case",
    [
        f"{d}_{tag}"
        for d in ("rossi_fin", "veteran_celltype")
        for tag in ("rho0", "rho1", "rho0.5", "rho0_gamma1", "rho1_gamma1", "rho0.5_gamma2")
    ],
)
def test_weighted_logrank_matches_r(case, ref, datasets):
    r = ref["logrank"][case]
    d = datasets[r["data"]]
    data_t, data_e = ("week", "arrest") if r["data"] == "rossi" else ("time", "status")
    res = logrank(d[data_t], d[data_e], d[r["group"]], rho=r["rho"], gamma=r["gamma"])
    assert res.df == r["df"]
    assert_close(res.chisq, r["chisq"])
    assert_close(res.p, r["p"])
    assert_close(res.observed, r["observed"])
    assert_close(res.expected, r["expected"])
    assert_close(res.variance, r["var_diag"])
    assert (res.rho, res.gamma) == (r["rho"], r["gamma"])


def test_weighted_logrank_defaults_and_checks(datasets):
    d = datasets["rossi"]
    plain = logrank(d["week"], d["arrest"], d["fin"])
    same = logrank(d["week"], d["arrest"], d["fin"], rho=0, gamma=0)
    assert plain == same
    assert "G(" not in str(plain)
    assert "G(1, 0) weights" in str(logrank(d["week"], d["arrest"], d["fin"], rho=1))
    for bad in ({"rho": -1}, {"gamma": float("nan")}, {"rho": True}, {"gamma": "1"}):
        with pytest.raises(DataError, match="0 or more"):
            logrank(d["week"], d["arrest"], d["fin"], **bad)


# ---------------------------------------------------------------------------------------------
# quantiles against quantile.survfit
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case",
    [
        "rossi_fin_log",
        "lung_sex_log",
        "lung_loglog",
        "veteran_trt_plain",
        "veteran_celltype_log",
        "flat",
        "flat_end",
    ],
)
def test_quantiles_match_quantile_survfit(case, ref, datasets):
    r = ref["quantiles"][case]
    data, duration, event, group = columns(case)
    d = pd.DataFrame(ref["data"][case]) if case.startswith("flat") else datasets[data]
    out = survival_quantiles(
        d[duration],
        d[event],
        probs=r["probs"],
        by=None if group is None else d[group],
        conf_type=r["conf_type"],
        min_cell=0,
    )
    k = len(r["probs"])
    assert len(out) == k * len(r["quantile"])
    for g, (q, lo, hi) in enumerate(zip(r["quantile"], r["lower"], r["upper"], strict=True)):
        part = out.iloc[g * k : (g + 1) * k]
        assert_close(part["prob"], r["probs"])
        assert_close(part["time"], q)
        assert_close(part["ci_lower"], lo)
        assert_close(part["ci_upper"], hi)
        if group is not None:
            assert str(part["group"].iloc[0]) == r["strata"][g].split("=", 1)[1]


def test_quantiles_median_agrees_with_median_survival(datasets):
    d = datasets["veteran"]
    q = survival_quantiles(d["time"], d["status"], probs=[0.5], by=d["celltype"], min_cell=0)
    m = median_survival(d["time"], d["status"], by=d["celltype"], min_cell=0)
    # same rule wherever the curve does not end flat at exactly 0.5
    np.testing.assert_array_equal(q["time"].to_numpy(), m["median"].to_numpy())
    np.testing.assert_array_equal(q["ci_lower"].to_numpy(), m["ci_lower"].to_numpy())


def test_median_survival_keeps_print_rule_at_a_flat_end(ref):
    # the curve ends at exactly 0.5: print.survfit's median is the time it got there,
    # quantile.survfit's the midpoint to the last time
    d = pd.DataFrame(ref["data"]["flat_end"])
    med = median_survival(d["time"], d["status"], min_cell=0)
    assert_close(med["median"], ref["quantiles"]["flat_end"]["print_median"])
    q = survival_quantiles(d["time"], d["status"], probs=[0.5], min_cell=0)
    assert_close(q["time"], ref["quantiles"]["flat_end"]["quantile"][0][1])


def test_quantiles_checks_and_masking(datasets):
    d = datasets["lung"]
    for bad in ([0], [1], [0.5, 1.2], []):
        with pytest.raises(DataError, match="probs"):
            survival_quantiles(d["time"], d["status"], probs=bad)
    one = survival_quantiles(d["time"], d["status"], probs=0.5, min_cell=0)
    assert list(one["prob"]) == [0.5]
    small = pd.DataFrame(
        {
            "t": [1, 2, 3, 4, 5, 6, 7],
            "e": [1, 1, 0, 1, 1, 1, 0],
            "g": ["a", "a", "a", "a", "a", "b", "b"],
        }
    )
    with pytest.warns(SmallCellWarning, match="survival_quantiles: 2 group"):
        out = survival_quantiles(small["t"], small["e"], by=small["g"], min_cell=3)
    # the same groups as median_survival masks, every probability of a masked group
    with pytest.warns(SmallCellWarning):
        med = median_survival(small["t"], small["e"], by=small["g"], min_cell=3)
    np.testing.assert_array_equal(out["suppressed"], np.repeat(med["suppressed"], 3))
    assert out.loc[out["suppressed"], ["n", "events", "time", "ci_lower"]].isna().all().all()


# ---------------------------------------------------------------------------------------------
# concordance against survival::concordance(coxph fit)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["rossi_fin_age_prio", "lung_sex", "veteran_trt"])
def test_concordance_of_cox_matches_r(case, ref, datasets):
    r = ref["concordance"][case]
    data, duration, event, _ = columns(case)
    d = datasets[data]
    covariates = r["covariates"] if isinstance(r["covariates"], list) else [r["covariates"]]
    fit = cox(d, duration=duration, event=event, covariates=covariates)
    assert_close(fit["coef"], r["coef"])
    lp = d[covariates] @ fit["coef"].to_numpy()
    c = concordance(d[duration], d[event], lp)
    assert isinstance(c, ConcordanceResult)
    assert_close(c.concordance, r["concordance"])
    assert_close(c.se, r["se"])
    counts = r["count"]
    assert (c.concordant, c.discordant, c.tied_risk, c.tied_time, c.tied_both) == (
        counts["concordant"],
        counts["discordant"],
        counts["tied.x"],
        counts["tied.y"],
        counts["tied.xy"],
    )
    assert c.n == len(d)


def brute_force(t, e, x):
    """Pairs and influence by looping over all ordered pairs (the definition)."""
    comp = e[:, None] & ((t[None, :] > t[:, None]) | ((t[None, :] == t[:, None]) & ~e[None, :]))
    conc = comp & (x[:, None] > x[None, :])
    disc = comp & (x[:, None] < x[None, :])
    tied = comp & (x[:, None] == x[None, :])
    c, d, k = conc.sum(), disc.sum(), tied.sum()
    somers = (c - d) / (c + d + k)
    ic, idd, it = (m.sum(0) + m.sum(1) for m in (conc, disc, tied))
    dfbeta = (ic - idd) / (c + d + k) - somers / (c + d + k) * (ic + idd + it)
    return (somers + 1) / 2, np.sqrt((dfbeta**2).sum() / 4), c, d, k


@pytest.mark.parametrize("seed", range(6))
def test_concordance_agrees_with_the_pairwise_definition(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    t = rng.integers(1, 12, n).astype(float)  # many tied times
    e = rng.random(n) < 0.6
    e[0] = True
    x = rng.integers(0, 5, n).astype(float)  # many tied scores
    c = concordance(t, e, x)
    conc, se, nc, nd, nt = brute_force(t, e, x)
    assert (c.concordant, c.discordant, c.tied_risk) == (nc, nd, nt)
    np.testing.assert_allclose([c.concordance, c.se], [conc, se], rtol=1e-12)


def test_concordance_strata_and_checks():
    rng = np.random.default_rng(5)
    t = rng.integers(1, 20, 200).astype(float)
    e = rng.random(200) < 0.7
    x = rng.normal(size=200)
    g = np.repeat(["a", "b"], 100)
    both = concordance(t, e, x, strata=g)
    parts = [concordance(t[g == k], e[g == k], x[g == k]) for k in ("a", "b")]
    assert both.concordant == sum(p.concordant for p in parts)
    assert both.discordant == sum(p.discordant for p in parts)
    with pytest.raises(DataError, match="risk has missing"):
        concordance([1, 2, 3], [1, 1, 0], [0.1, np.nan, 0.3])
    with pytest.raises(DataError, match="numeric"):
        concordance([1, 2, 3], [1, 1, 0], ["a", "b", "c"])
    with pytest.raises(DataError, match="no comparable pairs"):
        concordance([1, 2, 3], [0, 0, 1], [1.0, 2.0, 3.0])


def test_concordance_of_stratified_cox_matches_r(ref, datasets):
    r = ref["concordance"]["rossi_strata_wexp"]
    d = datasets["rossi"]
    fit = cox(d, duration="week", event="arrest", covariates=r["covariates"], strata="wexp")
    assert_close(fit["coef"], r["coef"])
    lp = d[r["covariates"]] @ fit["coef"].to_numpy()
    c = concordance(d["week"], d["arrest"], lp, strata=d["wexp"])
    assert_close(c.concordance, r["concordance"])
    assert_close(c.se, r["se"])
    # R keeps the counts per stratum (a 2 x 5 matrix, column-major in the JSON)
    per_stratum = np.asarray(r["count"], dtype=float).reshape(5, 2).sum(axis=1)
    np.testing.assert_array_equal(
        [c.concordant, c.discordant, c.tied_risk, c.tied_time, c.tied_both], per_stratum
    )


# ---------------------------------------------------------------------------------------------
# stratified Cox and cluster-robust standard errors against coxph
# ---------------------------------------------------------------------------------------------
COX_CASES = [
    f"{kind}_{ties}"
    for kind in ("strata_wexp", "strata_wexp_mar", "cluster", "strata_cluster")
    for ties in ("efron", "breslow")
]


@pytest.fixture(scope="module")
def rossi_cl(read_external, ref) -> pd.DataFrame:
    d = read_external("lifelines_rossi.csv")
    d["cl"] = ref["rossi_cluster"]  # the made-up cluster, in file order
    return d.sample(frac=1, random_state=11)  # shuffled: nothing may depend on row order


@pytest.mark.parametrize("case", COX_CASES)
def test_stratified_and_clustered_cox_match_coxph(case, ref, rossi_cl):
    r = ref["cox"][case]
    strata = r["strata"] or None
    cluster = r["cluster"] or None
    fit = cox(
        rossi_cl,
        duration="week",
        event="arrest",
        covariates=r["covariates"],
        ties=r["ties"],
        strata=strata,
        cluster=cluster,
    )
    assert_close(fit["coef"], r["coef"])
    assert_close(fit["se"], r["se"])
    assert_close(fit.attrs["loglik"], r["loglik"])
    if cluster is not None:
        assert_close(fit["se_naive"], r["se_naive"])
        assert fit.attrs["n_clusters"] == len(set(ref["rossi_cluster"]))
    else:
        assert "se_naive" not in fit.columns
    z = fit["coef"] / fit["se"]
    np.testing.assert_allclose(fit["z"], z, rtol=1e-12)
    n_strata = 1 if strata is None else len(rossi_cl.groupby(strata))
    assert fit.attrs["n_strata"] == n_strata


def test_cox_strata_and_cluster_checks(rossi_cl):
    d = rossi_cl
    kw = {"duration": "week", "event": "arrest"}
    with pytest.raises(DataError, match="as covariates and as strata"):
        cox(d, covariates=["fin", "wexp"], strata="wexp", **kw)
    with pytest.raises(DataError, match="no column"):
        cox(d, covariates=["fin"], strata="site", **kw)
    with pytest.raises(DataError, match="strata is empty"):
        cox(d, covariates=["fin"], strata=[], **kw)
    holes = d.assign(wexp=d["wexp"].where(d["age"] != 20), cl=d["cl"].where(d["age"] != 21))
    with pytest.raises(DataError, match="strata column"):
        cox(holes, covariates=["fin"], strata="wexp", **kw)
    with pytest.raises(DataError, match="cluster column"):
        cox(holes, covariates=["fin"], cluster="cl", **kw)
    dropped = cox(holes, covariates=["fin"], strata="wexp", cluster="cl", missing="drop", **kw)
    assert dropped.attrs["n_dropped"] == int(((d["age"] == 20) | (d["age"] == 21)).sum())
    # one row per cluster: the robust SE is the plain (ungrouped) sandwich
    own = cox(d.assign(cl=np.arange(len(d))), covariates=["fin"], cluster="cl", **kw)
    assert own.attrs["n_clusters"] == len(d)
    assert abs(own["se"].iloc[0] / own["se_naive"].iloc[0] - 1) < 0.2


# ---------------------------------------------------------------------------------------------
# proportional-hazards check against cox.zph
# ---------------------------------------------------------------------------------------------
ZPH_CASES = [
    "rossi_efron",
    "rossi_breslow",
    "veteran_km",
    "veteran_rank",
    "veteran_identity",
    "veteran_log",
    "lung_sex",
    "rossi_strata_wexp",
    "rossi_strata_wexp_mar_breslow",
]


@pytest.mark.parametrize("case", ZPH_CASES)
def test_cox_zph_matches_r(case, ref, datasets):
    r = ref["zph"][case]
    data = datasets[r["data"]]
    duration, event = ("week", "arrest") if r["data"] == "rossi" else ("time", "status")
    covariates = r["covariates"] if isinstance(r["covariates"], list) else [r["covariates"]]
    z = cox_zph(
        data,
        duration=duration,
        event=event,
        covariates=covariates,
        ties=r["ties"],
        strata=r.get("strata"),
        transform=r["transform"],
    )
    assert isinstance(z, ZphResult)
    assert list(z.table.index) == [*covariates, "GLOBAL"]
    assert_close(z.table["chisq"], r["chisq"])
    assert_close(z.table["df"], r["df"])
    assert_close(z.table["p"], r["p"])
    assert_close(z.residuals.index.get_level_values("time"), r["time"])
    assert_close(z.residuals.index.get_level_values("x"), r["x"])
    expected = np.asarray(r["y"], dtype=float).reshape(len(r["time"]), -1)
    # R's residual rows follow the input order within tied times; the rows of a tied time
    # are compared as sets, since the shuffled input changes that order
    got = z.residuals.to_numpy()
    times = np.asarray(r["time"], dtype=float)
    # rows run by time within strata: a new run starts wherever the time falls back
    run = np.concatenate(([0], np.cumsum(np.diff(times) < 0)))
    for t, k in set(zip(times, run, strict=True)):
        sel = (times == t) & (run == k)
        np.testing.assert_allclose(
            np.sort(got[sel], axis=0), np.sort(expected[sel], axis=0), rtol=RTOL, atol=1e-10
        )
    assert "GLOBAL" in str(z) or "global" in str(z)


def test_cox_zph_checks(datasets):
    d = datasets["rossi"]
    with pytest.raises(DataError, match="transform"):
        cox_zph(d, duration="week", event="arrest", covariates=["fin"], transform="loglog")
    # a covariate named like the index levels does not clash with them
    z = cox_zph(
        d.rename(columns={"age": "x", "prio": "time"}),
        duration="week",
        event="arrest",
        covariates=["fin", "x", "time"],
    )
    assert list(z.residuals.columns) == ["fin", "x", "time"]


def test_zph_residual_plot(datasets):
    from matplotlib.figure import Figure

    from tim_research.plots import zph_residuals

    d = datasets["rossi"]
    z = cox_zph(d, duration="week", event="arrest", covariates=["fin", "age"])
    fit = cox(d, duration="week", event="arrest", covariates=["fin", "age"])
    fig = zph_residuals(z.residuals, "age", coef=float(fit.loc["age", "coef"]))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    points, smooth, flat = ax.lines
    np.testing.assert_allclose(points.get_ydata(), z.residuals["age"].to_numpy())
    assert len(smooth.get_xdata()) == len(z.residuals)
    assert flat.get_ydata()[0] == pytest.approx(fit.loc["age", "coef"])
    assert "age" in ax.get_ylabel()
    with pytest.raises(DataError, match="not a covariate"):
        zph_residuals(z.residuals, "prio")
    with pytest.raises(DataError, match="residuals table"):
        zph_residuals(z.residuals.reset_index(), "age")
