# %% [markdown]
# # Program explorer
#
# Pick a site, an outcome, a survey wave and a subgroup: the table and the figure below the
# controls follow your choice. Outcomes are the young people's resilience scores (BRS,
# CYRM-R and its two parts), the baseline ACE score bands, the mentors' well-being scores
# (ProQOL subscales, STSS), the young people's reports of their mentoring relationship (YSoR and
# the youth-centred scale, 3 and 12 months into the match) and their goal attainment (GAS
# T-score at each review, centred on goals met as expected), each when the data have it. Each row
# describes a group; nobody's own answers are shown.
#
# **How to read it.** Scores are means with 95% confidence intervals; ACE bands are shares of
# young people in each band. `All` is the whole group of the site (or of all sites) who
# answered that survey. Each wave includes everyone who answered it, so the people behind
# the waves differ a little. These are descriptions, not tests of whether mentoring works:
# the research notebooks compare the arms properly.
#
# **Privacy.** A number with fewer than `min_cell` people behind it reads "suppressed", and so
# does any other number that would let it be worked out, also by comparing one site's view
# with the all-sites view; a subgroup a site does not have reads "suppressed" too. An ACE score describes a population; it is not a screen of any one
# young person.
#
# Run this notebook in JupyterLab, or as a dashboard with `make dashboard` (Voila).

# %%
import gc
from typing import Optional

from tim_research.views.explorer import ALL_SITES, Choice, explorer_app, explorer_data
from tim_research.views.notebook import setup

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site shown first, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step (the explorer draws none)
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column

# %%
nb = setup(data_dir=data_dir, min_cell=min_cell, seed=seed, allow_identifiers=allow_identifiers)
data = explorer_data(nb.program)
# the scored tables live as long as the dashboard: kept out of the garbage collector's full
# passes, which otherwise made one widget change in twenty wait 300-700 ms
gc.collect()
gc.freeze()
print(f"{data.youth['site'].nunique()} sites; {len(data.youth)} youth surveys and "
      f"{0 if data.mentors is None else len(data.mentors)} mentor surveys to explore; "
      f"numbers with fewer than {nb.min_cell} people behind them are suppressed.")

# %% [markdown]
# ## Explore
#
# Change any control; the answer appears below it. The waves follow the outcome: survey waves,
# relationship reports at 3 and 12 months, or goal reviews at 6 and 12 months and at closure.
# When the data cannot answer a choice (a mentor outcome without mentor surveys), a line says
# why.

# %%
explorer_app(data, min_cell=nb.min_cell, choice=Choice(site=site or ALL_SITES))
