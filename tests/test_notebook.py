"""tim_research.views.notebook: parameter checks, identifier refusal, site selection, display."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tim_research import synth
from tim_research.errors import DataError
from tim_research.views.notebook import setup, show


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pkg")
    synth.write_sample(folder, n_youth=40, seed=3)
    return folder


def _with_notes(package, tmp_path):
    import shutil

    folder = tmp_path / "notes"
    shutil.copytree(package, folder)
    youth = pd.read_csv(folder / "youth.csv", dtype=str, keep_default_na=False)
    youth["guardian_email"] = [f"carer{i}@example.org" for i in range(len(youth))]
    youth.to_csv(folder / "youth.csv", index=False)
    dp = json.loads((folder / "datapackage.json").read_text())
    res = next(r for r in dp["resources"] if r["name"] == "youth")
    res["schema"]["fields"].append({"name": "guardian_email", "type": "string"})
    (folder / "datapackage.json").write_text(json.dumps(dp))
    return folder


def test_setup_refuses_identifier_columns_unless_allowed(package, tmp_path):
    folder = _with_notes(package, tmp_path)
    with pytest.raises(DataError, match=r"youth\.guardian_email") as info:
        setup(data_dir=str(folder))
    assert "example.org" not in str(info.value)
    nb = setup(data_dir=str(folder), allow_identifiers=["youth.guardian_email"])
    assert "guardian_email" in nb.program.youth.columns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"site": 3}, "'site' must be str or None"),
        ({"min_cell": "5"}, "'min_cell' must be int"),
        ({"min_cell": -1}, "0 or more"),
        ({"seed": True}, "'seed' must be int"),
        ({"allow_identifiers": "youth.notes"}, "list of column names"),
        ({"site": "Atlantis"}, "not in the data"),
    ],
)
def test_setup_checks_parameters(package, kwargs, message):
    with pytest.raises(DataError, match=message):
        setup(data_dir=str(package), **kwargs)


def test_setup_selects_one_site(package):
    nb = setup(data_dir=str(package), site="East")
    assert set(nb.program.youth["site"].astype(str)) == {"East"}
    assert set(nb.program.matches["youth_id"]) <= set(nb.program.youth["youth_id"])
    assert nb.site_label == "site East" and nb.sites == ["East"]


def test_show_marks_suppressed_cells_and_keeps_a_named_index():
    t = pd.DataFrame(
        {"count": [12.0, None], "estimate": [0.4, None], "suppressed": [False, True]},
        index=pd.Index(["a", "b"], name="site"),
    )
    shown = show(t).main
    assert shown["Site"].tolist() == ["a", "b"]
    assert shown["Count"].tolist() == ["12", "suppressed"]
    assert shown["Percent"].tolist() == ["40 %", "suppressed"]


def test_setup_outside_a_kernel_leaves_global_state_alone(package):
    import warnings

    before = (pd.get_option("display.precision"), warnings.formatwarning)
    setup(data_dir=str(package))
    assert (pd.get_option("display.precision"), warnings.formatwarning) == before
