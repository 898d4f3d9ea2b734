"""Effects planted in a synthetic program, as recorded in its data package.

:func:`tim_research.synth.program` plants them; :func:`tim_research.program.read_program`
reads them back from ``datapackage.json`` so that an analysis can be set beside the truth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import pandas as pd

from tim_research.errors import DataError

__all__ = ["Effects"]


@dataclass(frozen=True)
class Effects:
    """True effects planted in a synthetic program.

    The ``_d`` effects are in standard-deviation units of :data:`~tim_research.synth.REFERENCE_SD`;
    hazard and odds ratios multiply. Defaults are of the size reported in the literature where a
    figure exists and are otherwise illustrative (marked so below).

    Attributes
    ----------
    brs_d
        Change in BRS over 12 months in a match, for a youth with
        :data:`~tim_research.synth.ACE_CENTRE` ACEs, relative to no match; proportional to months
        matched by the survey date ("dose"). Default 0.21, the size of the overall effect of youth
        mentoring programs reported for the meta-analysis of Raposa et al. 2019 (J Youth Adolesc
        48:423-443; earlier meta-analyses 0.18-0.21).
    cyrm_r_d
        The same for the CYRM-R total (default 0.21, same source).
    ace_moderation_d
        Change of that 12-month effect per ACE category above
        :data:`~tim_research.synth.ACE_CENTRE` (both scales).
        Illustrative: the direction of moderation by adversity is not settled in the literature.
    early_closure_d
        Extra change once a match closes unplanned within its first 3 months (both scales).
        Negative by default: Grossman & Rhodes 2002 (Am J Community Psychol 30:199-219) found
        decrements after early termination; the size is illustrative.
    training_hr_per_10h
        Hazard ratio of unplanned closure per 10 hours of mentor training (illustrative).
    ace_closure_hr
        Hazard ratio of unplanned closure per ACE category (Grossman & Rhodes 2002: youth with
        a history of abuse ended matches earlier; size illustrative).
    age_closure_hr
        Hazard ratio of unplanned closure per year of youth age (older youth end earlier,
        Grossman & Rhodes 2002; size illustrative).
    early_closure_12m
        Share of matches closing unplanned within 12 months at average covariates. Default
        0.38: mean premature-closure rate over 6,468 matches in 170 programs, Kupersmidt et al.
        2017 (Am J Community Psychol 59:25-35).
    dropout_or_after_closure
        Odds ratio of missing a follow-up survey after the youth's match closed unplanned
        (illustrative).
    sts_burnout_r
        Correlation between the true STSS score and the true ProQOL burnout score at baseline
        (illustrative).
    caseload_sts_d
        Change in STSS over 12 months per additional youth in the mentor's caseload
        (illustrative).
    supervision_sts_d
        Change in STSS over 12 months per step of supervision frequency (monthly ->
        fortnightly -> weekly; illustrative).
    relationship_closure_hr
        Hazard ratio of unplanned closure per point of the youth-reported relationship
        strength 3 months into the match (true YSoR mean score, 1-5). Rhodes et al. 2014
        (Youth & Society, doi:10.1177/0044118X14531604) found that stronger relationships
        predicted longer matches; the size is illustrative. Planted without changing the
        matches: the 3-month score is drawn given the match's latent closure risk (see
        :mod:`tim_research.synth`).
    pce_ace_moderation_d
        Change of the baseline ACE-BRS slope (SD units of ``REFERENCE_SD['brs']`` per ACE
        category) per positive childhood experience (PCE count 0-7): positive values soften
        the association of adversity with lower resilience, as Bethell et al. 2019 (JAMA
        Pediatr 173(11):e193007) found for adult mental health at every ACE level; the size
        is illustrative.
    goal_t_per_12m
        Rise of the expected Goal Attainment Scaling T-score (Kiresuk & Sherman 1968) per 12
        months matched by the review (illustrative).

    Examples
    --------
    >>> Effects().brs_d
    0.21
    >>> float(Effects(brs_d=0.0).to_frame().loc["brs_d", "value"])
    0.0
    """

    brs_d: float = 0.21
    cyrm_r_d: float = 0.21
    ace_moderation_d: float = 0.04
    early_closure_d: float = -0.10
    training_hr_per_10h: float = 0.80
    ace_closure_hr: float = 1.05
    age_closure_hr: float = 1.08
    early_closure_12m: float = 0.38
    dropout_or_after_closure: float = 3.0
    sts_burnout_r: float = 0.55
    caseload_sts_d: float = 0.20
    supervision_sts_d: float = -0.15
    relationship_closure_hr: float = 0.60
    pce_ace_moderation_d: float = 0.04
    goal_t_per_12m: float = 5.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise DataError(f"Effects.{f.name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise DataError(f"Effects.{f.name} must be finite, got {value!r}")
            object.__setattr__(self, f.name, float(value))
        for name in (
            "training_hr_per_10h",
            "ace_closure_hr",
            "age_closure_hr",
            "relationship_closure_hr",
        ):
            if getattr(self, name) <= 0:
                raise DataError(f"Effects.{name} is a hazard ratio and must be > 0")
        if self.dropout_or_after_closure <= 0:
            raise DataError("Effects.dropout_or_after_closure is an odds ratio and must be > 0")
        if not 0 < self.early_closure_12m < 1:
            raise DataError("Effects.early_closure_12m is a share and must be in (0, 1)")
        if not -1 < self.sts_burnout_r < 1:
            raise DataError("Effects.sts_burnout_r is a correlation and must be in (-1, 1)")

    def to_frame(self) -> pd.DataFrame:
        """One row per effect: ``value`` and ``scale`` (what the number means)."""
        scales = {
            "brs_d": "SD units (REFERENCE_SD['brs']) per 12 months matched",
            "cyrm_r_d": "SD units (REFERENCE_SD['cyrm_r']) per 12 months matched",
            "ace_moderation_d": "SD units per 12 months matched per ACE above ACE_CENTRE",
            "early_closure_d": "SD units after unplanned closure within 3 months",
            "training_hr_per_10h": "hazard ratio per 10 training hours",
            "ace_closure_hr": "hazard ratio per ACE category",
            "age_closure_hr": "hazard ratio per year of age",
            "early_closure_12m": "share closed unplanned by 12 months",
            "dropout_or_after_closure": "odds ratio of a missed survey after closure",
            "sts_burnout_r": "correlation of true scores",
            "caseload_sts_d": "SD units (REFERENCE_SD['stss']) per extra youth",
            "supervision_sts_d": "SD units (REFERENCE_SD['stss']) per supervision step",
            "relationship_closure_hr": "hazard ratio per YSoR point at 3 months",
            "pce_ace_moderation_d": "SD units (REFERENCE_SD['brs']) per ACE per PCE",
            "goal_t_per_12m": "GAS T-score points per 12 months matched",
        }
        rows = [{"effect": k, "value": v, "scale": scales[k]} for k, v in asdict(self).items()]
        return pd.DataFrame(rows).set_index("effect")

    def _repr_html_(self) -> str:
        return "<p><b>Effects</b></p>" + self.to_frame().to_html()

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Effects:
        """Rebuild effects from a mapping (e.g. ``datapackage.json``), refusing unknown keys.

        Examples
        --------
        >>> Effects.from_mapping({"brs_d": 0.3}).brs_d
        0.3
        """
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - names)
        if unknown:
            raise DataError(f"unknown effect(s) {unknown}; known: {sorted(names)}")
        return cls(**dict(mapping))
