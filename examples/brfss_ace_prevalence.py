"""Real data end to end: ACE prevalence in the BRFSS 2022 extract, beside published figures.

Run from the repository root::

    python examples/brfss_ace_prevalence.py            # print the tables
    python examples/brfss_ace_prevalence.py --out DIR  # also write them as CSV files

Steps: read the public-domain BRFSS 2022 ACE extract (``data/external/``, see its SOURCES.md),
score it with the ``brfss_ace`` instrument through the ``brfss`` column map (11 questions,
8 categories, score 0-8, CDC 2019 bands 0, 1, 2-3, 4+), then report

1. the share of adults by ACE count;
2. the share with 4 or more ACEs by state, and the ACE-count distribution by state;
3. the shares set beside published figures (``notebooks/teaching/data/published_ace_figures.csv``,
   each row with its source).

Every table suppresses counts below ``--min-cell`` (and cells that would reveal them).

Caveat: the extract has no survey weights, strata or PSUs (they were dropped upstream), so
these are unweighted shares of respondents; published BRFSS figures are weighted population
estimates from other years and states. Expect to be near them, not equal. An ACE score is a
population research measure, not an individual screen.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tim_research import score
from tim_research.instruments import load_column_map
from tim_research.stats.prevalence import distribution, prevalence

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "external" / "brfss2022_ace_12states.csv"
PUBLISHED = ROOT / "notebooks" / "teaching" / "data" / "published_ace_figures.csv"

# US Census Bureau state FIPS codes of the 12 states in the extract (data/external/SOURCES.md)
STATES = {
    4: "Arizona",
    5: "Arkansas",
    12: "Florida",
    19: "Iowa",
    32: "Nevada",
    34: "New Jersey",
    38: "North Dakota",
    39: "Ohio",
    40: "Oklahoma",
    41: "Oregon",
    46: "South Dakota",
    51: "Virginia",
}


# Swedo EA et al. MMWR 2023;72(26):707-715 (BRFSS 2011-2020, weighted): the lowest and highest
# jurisdiction shares of adults with 4 or more ACEs, both states in the extract
PUBLISHED_STATE_RANGE = {"New Jersey": 11.9, "Oregon": 22.7}


def score_extract(path: str | Path = DATA) -> pd.DataFrame:
    """ACE scores of every respondent in the extract, with the state's name.

    Returns the columns of ``score(..., "brfss_ace")`` plus ``state`` (name), indexed like
    the file's rows. Respondents whose score is missing keep their row (score NaN).
    """
    answers = pd.read_csv(path)
    unknown = set(answers["state"].unique()) - set(STATES)
    if unknown:
        raise ValueError(f"{len(unknown)} state code(s) not in STATES; update the table")
    scored = score(answers, "brfss_ace", columns=load_column_map("brfss"))
    scored.insert(0, "state", answers["state"].map(STATES))
    return scored


def prevalence_tables(scored: pd.DataFrame, *, min_cell: int = 5) -> dict[str, pd.DataFrame]:
    """The three published tables: by ACE count, by state, and 4+ ACEs by state."""
    with_score = scored.dropna(subset=["brfss_ace_score"]).copy()
    with_score["four_or_more"] = (with_score["brfss_ace_score"] >= 4).astype(float)
    return {
        "by_count": distribution(with_score, "brfss_ace_score_category", min_cell=min_cell),
        "by_state": distribution(
            with_score, "brfss_ace_score_category", by="state", min_cell=min_cell
        ),
        "four_plus_by_state": prevalence(with_score, "four_or_more", by="state", min_cell=min_cell),
    }


def beside_published(
    scored: pd.DataFrame, published: str | Path | pd.DataFrame = PUBLISHED
) -> pd.DataFrame:
    """Each published figure with the same share computed from the extract (percent)."""
    table = published if isinstance(published, pd.DataFrame) else pd.read_csv(published)
    values = scored["brfss_ace_score"].dropna()
    high = table["max_aces"].fillna(float("inf"))
    table = table.copy()
    table["this_extract_percent"] = [
        100 * values.between(lo, hi).mean() for lo, hi in zip(table["min_aces"], high)
    ]
    return table[["measure", "percent", "this_extract_percent", "categories", "estimate", "source"]]


def main(argv: Sequence[str] | None = None) -> int:
    """Print (and with ``--out`` write) the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA), help="the BRFSS ACE extract (CSV)")
    parser.add_argument("--published", default=str(PUBLISHED), help="published figures (CSV)")
    parser.add_argument("--min-cell", type=int, default=5, help="smallest count shown")
    parser.add_argument("--out", help="folder to write the tables to as CSV files")
    args = parser.parse_args(argv)
    scored = score_extract(args.data)
    n = scored["brfss_ace_score"].notna().sum()
    print(f"{len(scored):,} respondents; {n:,} with an ACE score (unweighted shares below)\n")
    tables = prevalence_tables(scored, min_cell=args.min_cell)
    tables["beside_published"] = beside_published(scored, args.published)
    four = tables["four_plus_by_state"].set_index("state")["estimate"]
    for state, published in PUBLISHED_STATE_RANGE.items():
        print(
            f"4+ ACEs in {state}: {100 * four[state]:.1f}% here (unweighted, 2022); "
            f"{published}% published (Swedo et al. 2023, weighted, 2011-2020)"
        )
    print()
    with pd.option_context(
        "display.width",
        160,
        "display.max_columns",
        20,
        "display.precision",
        3,
        "display.max_colwidth",
        60,
    ):
        for name, table in tables.items():
            print(f"== {name}\n{table.drop(columns=['note'], errors='ignore')}\n")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            table.to_csv(out / f"{name}.csv", index=False)
        print(f"tables written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
