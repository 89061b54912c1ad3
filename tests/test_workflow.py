"""The NTU 3D workflow run by real Snakemake: outputs, rerun no-op, partial rebuild, byte identity."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import planned_jobs, run_snakemake

from skeleton.core.rejects import read_rejects
from skeleton.core.tables import shard_of
from skeleton.ntu.index import read_index
from skeleton.ntu.names import parse_name

pytestmark = pytest.mark.slow


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run_snakemake(workdir, *args, configfile="config.yaml", check=check)


def make_workdir(path: Path, synth_ntu: Path, **ntu) -> Path:
    path.mkdir(parents=True)
    shutil.copytree(synth_ntu / "ntu60", path / "raw60")
    shutil.copytree(synth_ntu / "ntu120", path / "raw120")
    cfg = {
        "ntu": {"skeletons": ["raw60", "raw120"], "denoise": "pyskl", "shard_size": 10000,
                "datasets": ["ntu60", "ntu120"], **ntu},
        "strict": False,
    }  # fmt: skip
    (path / "config.yaml").write_text(yaml.safe_dump(cfg))
    return path


def pickles(workdir: Path) -> dict[str, bytes]:
    return {ds: (workdir / f"results/{ds}/{ds}_3d.pkl").read_bytes() for ds in ("ntu60", "ntu120")}


@pytest.fixture(scope="module")
def built(tmp_path_factory, synth_ntu) -> Path:
    wd = make_workdir(tmp_path_factory.mktemp("wf") / "run", synth_ntu)
    snakemake(wd, "--cores", "2", "ntu60_xview", "ntu120_xset")
    return wd


def test_outputs(built):
    for ds, keys in [("ntu60", ["xsub_train", "xsub_val", "xview_train", "xview_val"]),
                     ("ntu120", ["xsub_train", "xsub_val", "xset_train", "xset_val"])]:  # fmt: skip
        with open(built / f"results/{ds}/{ds}_3d.pkl", "rb") as f:
            data = pickle.load(f)
        assert sorted(data["split"]) == sorted(keys)
        names = [a["frame_dir"] for a in data["annotations"]]
        assert names == sorted(names)
        assert all(parse_name(n).in_ntu60 for n in names) or ds == "ntu120"
        assert len(names) == (80 if ds == "ntu120" else sum(parse_name(n).in_ntu60 for n in names))
        for split in data["split"].values():
            assert set(split) <= set(names)
        # the ntu60 report lists the NTU120 samples it leaves out, nothing else
        listed = read_rejects(built / f"results/{ds}/rejects.tsv")
        assert {r.reason for r in listed} <= {"not_in_dataset"}
        assert len(names) + len(listed) == 80
        assert (built / f"results/{ds}/manifest.json").stat().st_size > 0
    # every rule has a log and a benchmark; each raw file was parsed once for both datasets
    shards = {r.shard for r in read_index(built / "results/ntu/index.tsv")}
    assert len(list((built / "benchmarks/ntu/3d_pyskl").glob("shard_*.tsv"))) == len(shards)
    assert (built / "logs/ntu/index.log").exists() and (
        built / "logs/ntu60/package_3d.log"
    ).exists()


@pytest.mark.mmaction
@pytest.mark.parametrize("ds", ["ntu60", "ntu120"])
def test_mmaction_loads_the_workflow_pickles(built, ds):
    from mmaction_consumer import load_with_mmaction

    load_with_mmaction(built / f"results/{ds}/{ds}_3d.pkl", "--max-per-split", "8")


def test_rerun_is_a_noop(built):
    p = snakemake(built, "--cores", "2", "-n", "ntu60", "ntu120")
    assert "Nothing to be done" in p.stdout + p.stderr


def test_touching_one_file_reruns_its_shard_and_packaging(built):
    before = pickles(built)
    raw = sorted((built / "raw120").glob("*.skeleton"))[3]
    time.sleep(1)
    os.utime(raw)
    p = snakemake(built, "--cores", "2", "-n", "ntu60", "ntu120")
    jobs = planned_jobs(p)
    assert jobs.get("ntu_parse_shard") == 1 and jobs.get("ntu_package") in (1, 2), jobs
    assert "ntu_index" not in jobs and "ntu_splits" not in jobs
    snakemake(built, "--cores", "2", "ntu60", "ntu120")
    assert pickles(built) == before  # same content -> same bytes


def test_cores_1_gives_identical_bytes(built, tmp_path, synth_ntu):
    wd = make_workdir(tmp_path / "one", synth_ntu)
    snakemake(wd, "--cores", "1", "ntu60", "ntu120")
    assert pickles(wd) == pickles(built)


def test_config_typo_is_a_clear_error(tmp_path, synth_ntu):
    wd = make_workdir(tmp_path / "typo", synth_ntu)
    cfg = yaml.safe_load((wd / "config.yaml").read_text())
    cfg["ntu"]["shard_sise"] = cfg["ntu"].pop("shard_size")
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg))
    p = snakemake(wd, "--cores", "1", "-n", check=False)
    assert p.returncode != 0 and "shard_sise" in p.stderr + p.stdout
    cfg["ntu"]["shard_size"] = "big"
    del cfg["ntu"]["shard_sise"]
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg))
    p = snakemake(wd, "--cores", "1", "-n", check=False)
    assert p.returncode != 0 and "'big' is not of type 'integer'" in p.stderr + p.stdout


def test_energy_mode_and_strict(tmp_path, synth_ntu):
    wd = make_workdir(tmp_path / "strict", synth_ntu, denoise="energy")
    (wd / "raw60" / "S001C001P001R001A1.skeleton").write_text("0\n")
    cfg = yaml.safe_load((wd / "config.yaml").read_text())
    cfg["strict"] = True
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg))
    p = snakemake(wd, "--cores", "2", "ntu60", check=False)
    assert p.returncode != 0 and "ntu_package" in p.stdout + p.stderr
    assert "bad_name" in (wd / "logs/ntu60/package_3d.log").read_text()
    cfg["strict"] = False
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg))
    snakemake(wd, "--cores", "2", "ntu60")
    rejects = read_rejects(wd / "results/ntu60/rejects.tsv")
    assert [r.reason for r in rejects if r.reason != "not_in_dataset"] == ["bad_name"]
    assert (wd / "results/ntu/3d_energy").is_dir()


def test_raw_archive_given_as_url(tmp_path, synth_ntu):
    """ntu.skeletons may name a URL: rule fetch_raw downloads it (verified) before indexing."""
    import zipfile

    archive = tmp_path / "nturgbd_skeletons_s001_to_s017.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted((synth_ntu / "ntu60").glob("*.skeleton")):
            zf.write(f, f"nturgb+d_skeletons/{f.name}")
    wd = make_workdir(tmp_path / "url", synth_ntu, skeletons=[archive.as_uri()], datasets=["ntu60"])
    snakemake(wd, "--cores", "2", "ntu60")
    assert (wd / "data/raw/ntu" / archive.name).is_file()
    with open(wd / "results/ntu60/ntu60_3d.pkl", "rb") as f:
        assert len(pickle.load(f)["annotations"]) == 40


def test_adding_a_file_reindexes_and_reruns_only_its_shard(tmp_path, synth_ntu):
    wd = make_workdir(tmp_path / "add", synth_ntu, datasets=["ntu120"])
    snakemake(wd, "--cores", "2", "ntu120")
    last = sorted((wd / "raw120").glob("*.skeleton"))[-1]
    new = wd / "raw120" / "S032C003P106R002A120.skeleton"
    shutil.copy(last, new)
    p = snakemake(wd, "--cores", "2", "ntu120")
    log = p.stdout + p.stderr
    assert re.search(r"^ntu_index\s+1$", log, re.M), log
    # its bucket among ceil(114480 / 10000) = 12, no other shard
    assert re.findall(r"wildcards: shard=(\d+)", log) == [str(shard_of(new.stem, 12))]
    with open(wd / "results/ntu120/ntu120_3d.pkl", "rb") as f:
        assert len(pickle.load(f)["annotations"]) == 81
