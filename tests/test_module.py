"""The workflow in the Snakemake ecosystem: used as a module by another workflow, and its report.

A workflow in a folder outside the repository imports ours the documented way (`module skeleton:
snakefile: ...; config: ...` + `use rule * from skeleton as skeleton_*`), adds a rule of its own
on our pickle, and builds; its pickles are byte-identical to a plain run of our Snakefile, and
`snakemake --report report.zip` works on both finished runs (with our figures in the zip).
About 40 s on 2 cores.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_snakemake

FIGURES = {f"3d_{n}.png" for n in ("splits", "classes", "lengths", "persons", "rejects")}
SETTINGS = {"ntu": {"skeletons": ["raw"], "shard_size": 20000, "datasets": ["ntu60"]}}

OUTER_SNAKEFILE = f"""\
configfile: "config.yaml"


module skeleton:
    snakefile:
        "{REPO / "Snakefile"}"
    config:
        config["skeleton"]


use rule * from skeleton as skeleton_*


rule all:
    default_target: True
    input:
        "results/ntu60/ntu60_3d.pkl",
        rules.skeleton_all.input,
    output:
        "ntu60_summary.txt",
    shell:
        "{sys.executable} -m skeleton info {{input[0]}} > {{output}}"
"""


def run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Snakemake in `workdir` on the Snakefile there, as the other workflow's user runs it."""
    return run_snakemake(workdir, *args, snakefile=None)


def report_members(workdir: Path, *args: str) -> set[str]:
    run(workdir, "--report", "report.zip", *args)
    with zipfile.ZipFile(workdir / "report.zip") as z:
        return {Path(n).name for n in z.namelist()}


@pytest.fixture(scope="module")
def raw(tmp_path_factory, synth_ntu) -> Path:
    root = tmp_path_factory.mktemp("raw")
    for f in sorted((synth_ntu / "ntu60").glob("*.skeleton"))[:16]:
        shutil.copy(f, root / f.name)
    return root


@pytest.mark.slow
def test_used_as_a_module_from_another_workflow(tmp_path, raw):
    outer = tmp_path / "outer"  # outside the repository, with its own Snakefile and config
    outer.mkdir()
    assert REPO not in outer.resolve().parents
    shutil.copytree(raw, outer / "raw")
    (outer / "Snakefile").write_text(OUTER_SNAKEFILE)
    (outer / "config.yaml").write_text(yaml.safe_dump({"skeleton": SETTINGS}))
    run(outer, "--cores", "2")

    summary = (outer / "ntu60_summary.txt").read_text()
    assert "annotations: 16" in summary and "xsub_train" in summary
    assert {p.name for p in (outer / "results/ntu60/report").iterdir()} == FIGURES
    dry = run(outer, "--cores", "2", "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr

    # the same pickle as a plain run of our Snakefile on the same data
    plain = tmp_path / "plain"
    plain.mkdir()
    shutil.copytree(raw, plain / "raw")
    (plain / "my.yaml").write_text(yaml.safe_dump(SETTINGS))
    snakefile = ["--snakefile", str(REPO / "Snakefile"), "--configfile", "my.yaml"]
    run(plain, *snakefile, "--cores", "2")
    pkl = "results/ntu60/ntu60_3d.pkl"
    assert (outer / pkl).read_bytes() == (plain / pkl).read_bytes()

    # reports of both finished runs, our figures included
    assert {"report.html"} | FIGURES <= report_members(plain, *snakefile)
    assert {"report.html"} | FIGURES <= report_members(outer)
