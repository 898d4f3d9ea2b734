"""Every notebook's printed statements on two more programs: one without a comparison group,
one without meetings and mentor surveys and without the synthetic marker.

The machinery is in tests/test_notebook_text.py; the runs are split between the two modules so
that the suite's workers (one module each) share them.
"""

from __future__ import annotations

import pytest
from test_notebook_text import cases, check_run, program_dirs  # noqa: F401 (a fixture)

CASES = cases(["no-comparison", "no-meetings-no-mentor-surveys"])


@pytest.mark.slow
@pytest.mark.parametrize(("program", "run"), CASES, ids=[f"{p}-{r}" for p, r in CASES])
def test_printed_statements_follow_the_data(program_dirs, program, run):  # noqa: F811
    check_run(program_dirs, program, run)
