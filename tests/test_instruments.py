"""The instrument catalogue: every file loads, declares its sources, and user files work."""

from __future__ import annotations

import shutil
import textwrap

import pandas as pd
import pytest

from tim_research import list_instruments, load_instrument, score
from tim_research.errors import InstrumentError
from tim_research.instruments import builtin_folder
from tim_research.program.schema import (
    instrument_note,
    item_columns,
    item_instrument,
    table_schemas,
)

BUILTIN = sorted(p.stem for p in builtin_folder().glob("*.toml"))

MINIMAL = textwrap.dedent(
    """
    id = "my_scale"
    name = "My scale"
    version = "1"
    citation = "Author (2026). A scale."
    licence = "CC BY 4.0"
    item_text_shipped = false
    response_set = "agree5"
    reverse_keyed = ["my_scale_2"]

    [response_sets.agree5]
    codes = [1, 2, 3, 4, 5]
    labels = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]

    [[items]]
    id = "my_scale_1"
    [[items]]
    id = "my_scale_2"

    [[scales]]
    id = "score"
    method = "mean"
    items = ["my_scale_1", "my_scale_2"]

    [[scales.cutoffs]]
    id = "published"
    default = true
    source = "Nowhere"
    bins = [ { label = "low", upper = 3, upper_inclusive = false }, { label = "high", lower = 3 } ]
    """
)


def test_catalogue_has_the_required_instruments():
    assert {"ace10", "brfss_ace", "brs", "cyrm_r", "proqol5", "stss", "pcl5"} <= set(BUILTIN)
    assert list(list_instruments()["id"]) == BUILTIN


@pytest.mark.parametrize("iid", BUILTIN)
def test_each_file_declares_citation_licence_and_rules(iid):
    inst = load_instrument(iid)
    assert inst.citation and inst.licence and inst.name
    assert not inst.item_text_shipped or "public domain" in inst.licence.lower()
    assert [i.id for i in inst.items] == [f"{iid}_{n}" for n in range(1, len(inst.items) + 1)]
    for scale in inst.scales:
        k = len(scale.parts)
        if scale.min_answered < k or scale.method == "mean":
            assert scale.missing_rule_source, f"{iid}.{scale.id} needs a missing-rule source"
        for cut in scale.cutoffs:
            assert cut.source
    assert isinstance(inst.to_frame(), pd.DataFrame)
    assert "<b>" in inst._repr_html_()


def test_published_item_maps():
    # Item maps as cited in the instrument files (Bride et al. 2004; Stamm 2010; Smith et al. 2008).
    stss = {s.id: s.items for s in load_instrument("stss").scales}
    assert stss["intrusion"] == tuple(f"stss_{i}" for i in (2, 3, 6, 10, 13))
    assert stss["avoidance"] == tuple(f"stss_{i}" for i in (1, 5, 7, 9, 12, 14, 17))
    assert stss["arousal"] == tuple(f"stss_{i}" for i in (4, 8, 11, 15, 16))
    proqol = load_instrument("proqol5")
    assert sorted(int(i.id.split("_")[1]) for i in proqol.items if i.reverse) == [1, 4, 15, 17, 29]
    parts = [set(s.items) for s in proqol.scales]
    assert len(set().union(*parts)) == 30 and sum(map(len, parts)) == 30
    assert [i.reverse for i in load_instrument("brs").items] == [False, True] * 3
    cyrm = {s.id: s.items for s in load_instrument("cyrm_r").scales}
    assert set(cyrm["personal"]) | set(cyrm["caregiver"]) == set(cyrm["score"])
    assert not set(cyrm["personal"]) & set(cyrm["caregiver"])


def test_user_folder_adds_an_instrument(tmp_path):
    (tmp_path / "my_scale.toml").write_text(MINIMAL)
    assert "my_scale" in set(list_instruments(paths=[tmp_path])["id"])
    data = pd.DataFrame({"my_scale_1": [5, 1], "my_scale_2": [1, 5]}, index=["b", "a"])
    out = score(data, "my_scale", paths=[tmp_path])
    assert out["my_scale_score"].tolist() == [5.0, 1.0]
    assert out["my_scale_score_category"].astype(str).tolist() == ["high", "low"]
    assert score(data, tmp_path / "my_scale.toml").equals(out)


def test_user_folder_overrides_a_builtin(tmp_path):
    shutil.copy(builtin_folder() / "brs.toml", tmp_path / "brs.toml")
    text = (
        (tmp_path / "brs.toml")
        .read_text()
        .replace('name = "Brief Resilience Scale"', 'name = "Local BRS"')
    )
    (tmp_path / "brs.toml").write_text(text)
    assert load_instrument("brs", paths=[tmp_path]).name == "Local BRS"
    assert load_instrument("brs").name == "Brief Resilience Scale"


_OPTION = """
[options.rule]
default = "a"
[options.rule.choices.a]
[options.rule.choices.b]
scales = {{ {} = {{ {} }} }}
"""


def test_complete_scale_needs_every_item(tmp_path):
    # min_answered = 1 would score a row with one item; the complete-case choice needs both
    data = pd.DataFrame({"my_scale_1": [4, 4], "my_scale_2": [2, None]}, index=["both", "one"])
    one_missing_allowed = MINIMAL.replace(
        'method = "mean"', 'method = "mean"\nmin_answered = 1'
    ) + _OPTION.format('"*"', "complete = true")
    (tmp_path / "my_scale.toml").write_text(one_missing_allowed)
    loose = score(data, "my_scale", paths=[tmp_path])
    assert loose["my_scale_score"].tolist() == [4.0, 4.0]
    strict = score(data, "my_scale", paths=[tmp_path], options={"rule": "b"})
    assert strict["my_scale_score"].tolist()[0] == 4.0
    assert pd.isna(strict.loc["one", "my_scale_score"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('id = "my_scale"\n', 'id = "other"\n', 1), "file name must be"),
        (lambda t: t.replace('method = "mean"', 'method = "median"'), "method must be one of"),
        (
            lambda t: t.replace('method = "mean"', 'method = "sum"\nmin_answered = 1'),
            "needs prorate = true",
        ),
        (lambda t: t.replace("upper = 3, upper_inclusive = false", "upper = 2"), "must meet"),
        (
            lambda t: t.replace('reverse_keyed = ["my_scale_2"]', 'reverse_keyed = ["x"]'),
            "reverse_keyed names unknown items",
        ),
        (lambda t: t.replace('citation = "Author (2026). A scale."\n', ""), "'citation'"),
        (lambda t: t + "\n[[broken", "not valid TOML"),
        (lambda t: t.replace('method = "mean"', 'method = "all"'), "needs a threshold"),
        (
            lambda t: t.replace('method = "mean"', 'method = "mean"\nthreshold = [1, 2, 3]'),
            "one number or one per part",
        ),
        (lambda t: t.replace('method = "mean"', 'method = "mean"\ncomplete = 1'), "true or false"),
        (lambda t: t + _OPTION.format("nope", "complete = true"), "unknown scale 'nope'"),
        (lambda t: t + _OPTION.format("score", "prorate = true"), "may set only"),
    ],
)
def test_malformed_files_are_rejected_with_the_reason(tmp_path, change, message):
    (tmp_path / "my_scale.toml").write_text(change(MINIMAL))
    with pytest.raises(InstrumentError, match=message):
        load_instrument(tmp_path / "my_scale.toml")


def test_missing_folder_and_unknown_id():
    with pytest.raises(InstrumentError, match="does not exist"):
        list_instruments(paths=["no/such/folder"])
    with pytest.raises(InstrumentError, match="Did you mean 'ace10'.* Known instruments: ace10"):
        load_instrument("ace99")
    with pytest.raises(InstrumentError, match=r"'zzz'\. Known instruments"):  # nothing close
        load_instrument("zzz")


@pytest.mark.parametrize("typed", ["BRS", "Brs", "PCL5", "ProQOL5"])
def test_instrument_ids_are_case_insensitive(typed):
    assert load_instrument(typed).id == typed.casefold()


# ----------------------------------------------------------------------------- program tables


def _schema_item_fields() -> dict[str, list[dict]]:
    """Item fields of the program's table schemas, grouped by the instrument they belong to."""
    out: dict[str, list[dict]] = {}
    for schema in table_schemas(sites=["A", "B"]).values():
        for f in schema["fields"]:
            inst = item_instrument(f["name"])
            if inst is not None:
                out.setdefault(inst, []).append(f)
    return out


def test_program_tables_hold_the_expected_instruments():
    assert set(_schema_item_fields()) == {
        "ace10",
        "brs",
        "cyrm_r",
        "proqol5",
        "stss",
        # relationship_surveys and pce_surveys (optional tables)
        "ysor",
        "youth_centered",
        "msor",
        "pce",
    }


@pytest.mark.parametrize("iid", BUILTIN)
def test_program_item_fields_agree_with_the_instrument_file(iid):
    inst = load_instrument(iid)
    fields = _schema_item_fields().get(iid)
    if fields is None:
        # Not in the program tables: no column may be taken for one of its items.
        assert [item_instrument(i) for i in inst.item_ids] == [None] * len(inst.items)
        return
    assert [f["name"] for f in fields] == list(inst.item_ids)
    assert item_columns(iid) == list(inst.item_ids)
    for f, item in zip(fields, inst.items, strict=True):
        rs = inst.response_sets[item.response_set]
        valid = [c for c in rs.codes if c not in rs.missing_codes]
        assert f["type"] == "integer"
        assert (f["constraints"]["minimum"], f["constraints"]["maximum"]) == (
            min(valid),
            max(valid),
        ), f["name"]
        assert ("(reverse-keyed)" in f["description"]) == item.reverse, f["name"]
        if iid == "ace10":
            assert item.label in f["description"], f["name"]


def test_instrument_note_lists_the_reverse_keyed_items_of_the_file():
    brs = load_instrument("brs")
    numbers = [str(k) for k, item in enumerate(brs.items, 1) if item.reverse]
    assert numbers  # the BRS has reverse-keyed items; a note without them would be wrong
    assert f"reverse-keyed items {', '.join(numbers)} are stored raw" in instrument_note("brs")
    assert f"; {len(brs.items)} items" in instrument_note("brs")


# ----------------------------------------------------------------------------- issue 16 files


def test_tim_instruments_lists_every_builtin_file(capsys):
    from tim_research.cli import main

    assert main(["instruments"]) == 0
    out = capsys.readouterr().out
    for iid in BUILTIN:
        assert iid in out, iid
    assert {"ysor", "msor", "youth_centered", "pce", "bce", "cats"} <= set(BUILTIN)


def test_relationship_and_positive_experience_files_follow_their_sources():
    # NMRC toolkit item 502: YSoR 10 items (6 positive, 4 negative), 5-point "Never true" ..
    # "Always true"; MSoR 14 items, Strongly disagree .. Strongly agree scored 1-5
    ysor = load_instrument("ysor")
    assert len(ysor.items) == 10 and sum(i.reverse for i in ysor.items) == 4
    assert ysor.response_sets["true5"].labels[0] == "Never true"
    assert ysor.response_sets["true5"].labels[-1] == "Always true"
    msor = load_instrument("msor")
    assert len(msor.items) == 14
    assert msor.response_sets["agree5"].codes == (1, 2, 3, 4, 5)
    # NMRC toolkit item 503: 5 items scored 1 (Not true at all) to 4 (Very true), mean
    ycr = load_instrument("youth_centered")
    rs = ycr.response_sets["true4"]
    assert len(ycr.items) == 5 and rs.codes == (1, 2, 3, 4)
    assert (rs.labels[0], rs.labels[-1]) == ("Not true at all", "Very true")
    assert [s.method for s in ycr.scales] == ["mean"]
    # Bethell et al. 2019: 7 PCE items; BCEs (Narayan et al. 2018): 10 items
    assert len(load_instrument("pce").items) == 7
    assert len(load_instrument("bce").items) == 10
    # CATS 7-17: 20 symptom items coded 0-3
    cats = load_instrument("cats")
    assert len(cats.items) == 20 and cats.response_sets["frequency4"].codes == (0, 1, 2, 3)


def test_pce_items_follow_the_order_of_bethell_2019():
    # Bethell et al. 2019, Methods: talk to family about feelings; family stood by them; community
    # traditions; belonging in high school; supported by friends; 2 non-parent adults; safe and
    # protected by an adult at home
    words = ["feelings", "stood by", "traditions", "high school", "friends", "non-parent", "safe"]
    labels = [i.label for i in load_instrument("pce").items]
    assert len(labels) == len(words)
    for word, label in zip(words, labels, strict=True):
        assert word in label, (word, label)


def test_cats_ships_only_the_total_until_a_primary_source_gives_the_cluster_map():
    # The DSM-5 cluster map of items 5-20 was found only in secondary sources (see cats.toml),
    # so the file scores the total of items 1-20 and nothing else; items 1-4 follow the form
    cats = load_instrument("cats")
    assert [s.id for s in cats.scales] == ["score"]
    assert cats.scales[0].items == cats.item_ids
    form_1_to_4 = ["pop into head", "bad dreams", "all over again", "upset when reminded"]
    for word, item in zip(form_1_to_4, cats.items[:4], strict=True):
        assert word in item.label, (word, item.label)
