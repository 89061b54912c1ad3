"""Reruns do only what changed: one raw file added, removed, moved or replaced reruns at most one
parse shard, leaves every other shard untouched and gives the pickle a build from scratch gives,
under every `--rerun-triggers` setting. Real Snakemake on synthetic NTU files.

(The same for videos and pose shards: tests/test_incremental_pose.py, in the pose env.)
"""

from __future__ import annotations

import os
import pickle
import shutil
import time
from pathlib import Path

import pytest
import yaml
from conftest import executed_jobs, planned_jobs, run_snakemake

from skeleton.core.rejects import read_rejects
from skeleton.ntu.names import parse_name

pytestmark = pytest.mark.slow

# 12 buckets (ceil(114480 / 10000)): the 80 synthetic samples fill most of them
CONFIG = {
    "ntu": {"skeletons": ["raw60", "raw120"], "denoise": "pyskl", "shard_size": 10000,
            "datasets": ["ntu60", "ntu120"]},
    "strict": False,
}  # fmt: skip
TRIGGERS = [[], ["mtime"], ["input"], ["params"], ["code"], ["software-env"]]


def snakemake(wd: Path, *args: str):
    return run_snakemake(wd, *args, configfile="config.yaml")


def shard_files(wd: Path) -> dict[str, tuple[bytes, int]]:
    """Every parse shard's bytes and mtime."""
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted((wd / "results/ntu/3d_pyskl").glob("shard_*"))
    }


def pickles(wd: Path) -> dict[str, bytes]:
    return {ds: (wd / f"results/{ds}/{ds}_3d.pkl").read_bytes() for ds in ("ntu60", "ntu120")}


@pytest.fixture(scope="module")
def built(tmp_path_factory, synth_ntu) -> Path:
    wd = tmp_path_factory.mktemp("inc") / "base"
    wd.mkdir()
    shutil.copytree(synth_ntu / "ntu60", wd / "raw60")
    shutil.copytree(synth_ntu / "ntu120", wd / "raw120")
    (wd / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    snakemake(wd, "--cores", "2", "ntu60", "ntu120")
    return wd


@pytest.fixture
def copy(built, tmp_path) -> Path:
    """A copy of the built folder (times kept), so each case starts from the same state."""
    wd = tmp_path / "wd"
    shutil.copytree(built, wd, symlinks=True)
    assert planned_jobs(snakemake(wd, "-n", "ntu60", "ntu120")) == {}
    time.sleep(0.01)  # changes below get later modification times than the copy
    return wd


def from_scratch(wd: Path, tmp_path: Path) -> dict[str, bytes]:
    """The pickles a fresh build of `wd`'s raw folders gives."""
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for name in ("raw60", "raw120"):
        shutil.copytree(wd / name, fresh / name)
    (fresh / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    snakemake(fresh, "--cores", "2", "ntu60", "ntu120")
    return pickles(fresh)


def check_rerun(wd: Path, tmp_path: Path, parse_jobs: int) -> None:
    """Run, and compare: `parse_jobs` shards rerun, the others keep their files, and the
    pickles are those of a build from scratch."""
    before = shard_files(wd)
    jobs = executed_jobs(snakemake(wd, "--cores", "2", "ntu60", "ntu120"))
    assert jobs.get("ntu_parse_shard", 0) == parse_jobs, jobs
    after = shard_files(wd)
    changed = {k for k in before if after.get(k) != before[k]} | (after.keys() - before.keys())
    assert len({Path(k).stem for k in changed}) == parse_jobs, changed
    assert pickles(wd) == from_scratch(wd, tmp_path)
    assert planned_jobs(snakemake(wd, "-n", "ntu60", "ntu120")) == {}


def first_free_name(wd: Path) -> str:
    """An NTU120 sample name sorting before every present one (positional shards moved all)."""
    present = {p.stem for p in wd.glob("raw*/*.skeleton")}
    name = next(n for a in range(61, 121) if (n := f"S018C001P001R001A{a:03d}") not in present)
    return name


def test_adding_a_file_reruns_one_shard(copy, tmp_path):
    src = sorted((copy / "raw120").glob("*.skeleton"))[0]
    name = first_free_name(copy)
    shutil.copy(src, copy / "raw120" / f"{name}.skeleton")
    check_rerun(copy, tmp_path, parse_jobs=1)
    assert name in [a["frame_dir"] for a in pickle.loads(pickles(copy)["ntu120"])["annotations"]]


def test_removing_a_file_reruns_no_shard(copy, tmp_path):
    victim = sorted((copy / "raw60").glob("*.skeleton"))[0]
    count = len(pickle.loads(pickles(copy)["ntu60"])["annotations"])
    victim.unlink()
    check_rerun(copy, tmp_path, parse_jobs=0)
    names = [a["frame_dir"] for a in pickle.loads(pickles(copy)["ntu60"])["annotations"]]
    assert victim.stem not in names and len(names) == count - 1


def test_moving_a_file_reruns_its_shard(copy, tmp_path):
    src = sorted((copy / "raw120").glob("*.skeleton"))[5]
    (copy / "raw120" / "sub").mkdir()
    src.rename(copy / "raw120" / "sub" / src.name)
    check_rerun(copy, tmp_path, parse_jobs=1)


@pytest.mark.parametrize("triggers", TRIGGERS, ids=lambda t: "-".join(t) or "default")
def test_a_replaced_file_reruns_under_every_trigger_setting(copy, triggers):
    """A malformed copy over a good file (same name, same folder): no folder changes, so only
    the file's own state can tell."""
    good = sorted((copy / "raw60").glob("*.skeleton"))[2]
    text = good.read_text().splitlines(keepends=True)
    text[5] = text[5].rstrip("\n") + " 7\n"  # a joint line with 13 tokens
    good.write_text("".join(text))
    option = ["--rerun-triggers", *triggers] if triggers else []
    # targets first: --rerun-triggers takes several values
    jobs = planned_jobs(snakemake(copy, "-n", "ntu60", "ntu120", *option))
    assert jobs.get("ntu_parse_shard") == 1 and jobs.get("ntu_package") == 2, jobs
    assert "ntu_index" not in jobs, jobs
    snakemake(copy, "--cores", "2", "ntu60", "ntu120", *option)
    rejects = read_rejects(copy / "results/ntu60/rejects.tsv")
    failed = [(r.sample, r.reason) for r in rejects if r.reason != "not_in_dataset"]
    assert failed == [(good.stem, "malformed")]
    assert parse_name(good.stem).in_ntu60


def test_touching_a_file_names_it_and_reruns_its_shard(copy):
    raw = sorted((copy / "raw120").glob("*.skeleton"))[3]
    os.utime(raw)
    p = snakemake(copy, "-n", "ntu60", "ntu120")
    assert f"changed since the last run: {raw.stem}" in p.stderr
    assert planned_jobs(p).get("ntu_parse_shard") == 1


def test_members_files_follow_the_shards(built):
    from skeleton.core.members import read_members
    from skeleton.ntu.index import read_index

    rows = read_index(built / "results/ntu/index.tsv")
    shards = {r.shard for r in rows if r.shard >= 0}
    assert len(shards) > 6  # the 80 samples spread over the 12 buckets
    for k in shards:
        got = read_members(built / f"results/ntu/members/skeletons_{k}.tsv")
        assert [m.sample for m in got] == [r.sample for r in rows if r.shard == k]
