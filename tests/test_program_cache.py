"""The batch's checked copy of a program (program.cache): identical to read_program, or unused."""

from __future__ import annotations

import json
import shutil
import stat

import pandas as pd
import pytest
from conftest import REPO

from tim_research import synth
from tim_research.errors import ProgramValidationError
from tim_research.program import cache as cache_mod
from tim_research.program import read_program
from tim_research.program.cache import CACHE_ENV, load_program, read_cache, write_cache
from tim_research.program.schema import TABLES
from tim_research.views.notebook import setup

SAMPLE = REPO / "data" / "sample"


@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "pkg"
    synth.write_sample(folder, n_youth=40, seed=4)
    return folder


def _same(a, b) -> None:
    for name in TABLES:
        # exact values, dtypes (categories and their order included) and index
        pd.testing.assert_frame_equal(
            getattr(a, name), getattr(b, name), check_exact=True, check_categorical=True
        )
        for column in getattr(a, name):
            assert getattr(a, name)[column].dtype == getattr(b, name)[column].dtype
    assert a.cutoff == b.cutoff
    assert a.effects == b.effects


def test_the_cached_sample_is_identical_to_read_program(tmp_path):
    direct = read_program(SAMPLE)
    folder = write_cache(direct, tmp_path / "cache", data_dir=SAMPLE)
    cached = read_cache(folder, SAMPLE)
    assert cached is not None
    _same(cached, direct)
    assert cached.effects is not None  # the sample is synthetic: its planted effects survive
    assert cached.sites == direct.sites


def test_the_cache_is_owner_only(tmp_path):
    folder = write_cache(read_program(SAMPLE), tmp_path / "cache", data_dir=SAMPLE)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.iterdir())
    assert {p.name for p in files} == {f"{n}.parquet" for n in TABLES} | {"program.json"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)


def test_setup_takes_the_cache_named_by_the_environment(package, tmp_path, monkeypatch):
    direct = read_program(package)
    write_cache(direct, tmp_path / "cache", data_dir=package)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))

    def refuse(*args, **kwargs):
        raise AssertionError("the package was read again")

    monkeypatch.setattr(cache_mod, "read_program", refuse)
    nb = setup(data_dir=str(package), site="North")
    assert set(nb.program.youth["site"].astype(str)) == {"North"}
    _same(load_program(package), direct)


def _calls(monkeypatch) -> list[str]:
    calls: list[str] = []

    def counted(folder, **kwargs):
        calls.append(str(folder))
        return read_program(folder, **kwargs)

    monkeypatch.setattr(cache_mod, "read_program", counted)
    return calls


def test_changed_data_or_another_folder_are_read_again(package, tmp_path, monkeypatch):
    write_cache(read_program(package), tmp_path / "cache", data_dir=package)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    calls = _calls(monkeypatch)
    other = tmp_path / "copy"
    shutil.copytree(package, other)
    load_program(other)  # same bytes, another folder
    youth = pd.read_csv(package / "youth.csv", dtype=str, keep_default_na=False)
    youth.loc[0, "age"] = "15" if youth.loc[0, "age"] != "15" else "14"
    youth.to_csv(package / "youth.csv", index=False, lineterminator="\n")
    changed = load_program(package)
    assert calls == [str(other), str(package)]
    assert changed.youth.loc[0, "age"] == int(youth.loc[0, "age"])


def test_no_cache_or_a_broken_one_reads_the_package(package, tmp_path, monkeypatch):
    calls = _calls(monkeypatch)
    monkeypatch.delenv(CACHE_ENV, raising=False)
    load_program(package)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "missing"))
    load_program(package)
    folder = write_cache(read_program(package), tmp_path / "cache", data_dir=package)
    (folder / "meetings.parquet").unlink()
    monkeypatch.setenv(CACHE_ENV, str(folder))
    load_program(package)
    assert len(calls) == 3


def test_identifiers_are_still_refused_without_the_allowance(package, tmp_path, monkeypatch):
    youth = pd.read_csv(package / "youth.csv", dtype=str, keep_default_na=False)
    youth["first_name"] = "x"
    youth.to_csv(package / "youth.csv", index=False, lineterminator="\n")
    dp = json.loads((package / "datapackage.json").read_text())
    res = next(r for r in dp["resources"] if r["name"] == "youth")
    res["schema"]["fields"].append({"name": "first_name", "type": "string"})
    (package / "datapackage.json").write_text(json.dumps(dp))
    allowed = read_program(package, allow_identifiers=["youth.first_name"])
    write_cache(
        allowed, tmp_path / "cache", data_dir=package, allow_identifiers=["youth.first_name"]
    )
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(ProgramValidationError, match=r"youth\.first_name"):
        load_program(package)
    with pytest.raises(ProgramValidationError, match=r"youth\.first_name"):
        setup(data_dir=str(package))
    _same(load_program(package, allow_identifiers=["youth.first_name"]), allowed)


def test_fingerprint_follows_mapping_and_its_exports_but_not_other_subfolders(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "baseline.csv").write_text("ResponseId\nR_1\n")
    (tmp_path / "mapping.toml").write_text(
        '[youth]\nfile = "exports/baseline.csv"\nformat = "csv"\n'
    )
    first = cache_mod.data_fingerprint(tmp_path)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "x.json").write_text("{}")
    assert cache_mod.data_fingerprint(tmp_path) == first
    (tmp_path / "exports" / "baseline.csv").write_text("ResponseId\nR_2\n")
    second = cache_mod.data_fingerprint(tmp_path)
    assert second != first
    (tmp_path / "mapping.toml").write_text("# nothing mapped\n")
    assert cache_mod.data_fingerprint(tmp_path) != second


def test_a_reader_waits_for_the_copy_the_batch_is_writing(package, tmp_path):
    import threading
    import time

    direct = read_program(package)
    folder = tmp_path / "cache"
    folder.mkdir()  # the batch makes the folder before its kernels start
    writer = threading.Timer(0.3, write_cache, (direct, folder), {"data_dir": package})
    started = time.monotonic()
    writer.start()
    cached = read_cache(folder, package)
    writer.join()
    assert time.monotonic() - started >= 0.3
    assert cached is not None
    _same(cached, direct)


def test_a_copy_that_never_comes_ends_the_wait(package, tmp_path):
    import threading
    import time

    folder = tmp_path / "cache"
    folder.mkdir()
    # the batch stopped and removed its folder: the reader stops waiting at once
    threading.Timer(0.2, shutil.rmtree, (folder,)).start()
    started = time.monotonic()
    assert read_cache(folder, package) is None
    assert time.monotonic() - started < 5
    # a folder left incomplete is waited for only as long as asked
    folder.mkdir()
    started = time.monotonic()
    assert read_cache(folder, package, wait=0.2) is None
    assert 0.2 <= time.monotonic() - started < 5
