"""Every input accounted for: samples outside the chosen dataset are listed, splits.json is the
pickle's split, and a workflow without raw data says so before any job (issue: nothing silent)."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess

import pytest
import yaml
from conftest import REPO, SNAKEMAKE, run_snakemake, skeleton_cmd

from skeleton.core.rejects import read_rejects
from skeleton.ntu.names import parse_name


def test_ntu60_from_ntu120_files_lists_the_others(tmp_path, synth_ntu):
    out, rejects = tmp_path / "ntu60.pkl", tmp_path / "rejects.tsv"
    p = subprocess.run(
        skeleton_cmd()
        + [
            "ntu3d",
            str(synth_ntu / "ntu120"),
            "--dataset",
            "ntu60",
            "--out",
            str(out),
            "--rejects",
            str(rejects),
            "--strict",
        ],  # fmt: skip
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr  # strict: left out by definition, not a failure
    with open(out, "rb") as f:
        packaged = {a["frame_dir"] for a in pickle.load(f)["annotations"]}
    listed = {r.sample: r.reason for r in read_rejects(rejects)}
    files = {f.stem for f in (synth_ntu / "ntu120").glob("*.skeleton")}
    assert packaged | set(listed) == files and not packaged & set(listed)
    assert set(listed.values()) == {"not_in_dataset"}
    assert all(not parse_name(n).in_ntu60 for n in listed)
    assert f"not_in_dataset {len(listed)}" in p.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory, synth_ntu):
    wd = tmp_path_factory.mktemp("splits")
    shutil.copytree(synth_ntu / "ntu60", wd / "raw")
    bad = sorted((wd / "raw").glob("*.skeleton"))[0]
    lines = bad.read_text().splitlines(keepends=True)
    lines[5] = "0.1 0.2\n"  # a joint line with 2 tokens: the sample is rejected when parsed
    bad.write_text("".join(lines))
    cfg = {"ntu": {"skeletons": ["raw"], "datasets": ["ntu60"], "shard_size": 20000}}
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg))
    run_snakemake(wd, "--cores", "2", "ntu60", "--configfile", str(wd / "config.yaml"))
    return wd, bad.stem


def test_splits_json_is_the_pickles_split(built):
    wd, bad = built
    with open(wd / "results/ntu60/ntu60_3d.pkl", "rb") as f:
        split = pickle.load(f)["split"]
    assert json.loads((wd / "results/ntu60/splits.json").read_text()) == split
    assert bad not in {n for v in split.values() for n in v}
    official = json.loads((wd / "results/ntu60/official_splits.json").read_text())
    assert bad in {n for v in official.values() for n in v}  # the assignment of every file
    assert [r.sample for r in read_rejects(wd / "results/ntu60/rejects.tsv")] == [bad]


def test_merge_takes_the_workflows_splits_json(built, tmp_path):
    wd, _ = built
    out = tmp_path / "merged.pkl"
    pkl = wd / "results/ntu60/ntu60_3d.pkl"
    p = subprocess.run(
        skeleton_cmd()
        + ["convert", "merge", str(out), "--split-json", str(wd / "results/ntu60/splits.json")]
        + [str(pkl)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr


def test_no_raw_data_configured_stops_before_any_job(tmp_path):
    """The first thing a Snakemake user types, in a clone: no job runs, nothing is deleted."""
    (tmp_path / "results/ntu").mkdir(parents=True)
    (tmp_path / "results/ntu/index.tsv").write_text("kept\n")
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config/config.yaml", tmp_path / "config/config.yaml")
    cmd = SNAKEMAKE + ["--directory", str(tmp_path), "--cores", "2"]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode != 0
    assert "no NTU raw data configured: set ntu.skeletons" in p.stderr
    assert "Execute" not in p.stderr + p.stdout  # no job started
    assert (tmp_path / "results/ntu/index.tsv").read_text() == "kept\n"


def test_a_path_with_braces_is_refused_in_one_message(tmp_path, synth_ntu):
    """Snakemake reads `{x}` in an input path as a wildcard: said before any job, not a
    WildcardError about rule ntu_index."""
    shutil.copytree(synth_ntu / "ntu60", tmp_path / "raw{x}")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"ntu": {"skeletons": ["raw{x}"]}}))
    p = run_snakemake(
        tmp_path, "-n", "ntu60", "--configfile", str(tmp_path / "config.yaml"), check=False
    )
    out = p.stdout + p.stderr  # Snakemake prints a parse-time error on stdout
    assert p.returncode != 0
    assert "ntu.skeletons: raw{x}: a path with '{' or '}' cannot be a workflow input" in out
    assert "Wildcards in input files cannot be determined" not in out
