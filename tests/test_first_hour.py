"""A new user's first hour: plain install, demo, config errors, run summaries, help, pose hint."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml
from conftest import (
    LISTED_MISSING,
    MALFORMED,
    REPO,
    copy_project,
    install_wheel,
    run_skeleton,
    run_snakemake,
)

from skeleton.core.rejects import read_rejects
from skeleton.workflow.configcheck import coerce_strings, explain_config_errors


def tree_state(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under root: mtime and content digest."""
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return run_snakemake(workdir, *args, check=False, timeout=600)


# ---- 1. a plain (non-editable) install ------------------------------------------------------


@pytest.mark.slow
def test_wheel_install_runs_ntu3d_from_another_folder(tmp_path, synth_ntu, wheel):
    """The wheel carries the data the library reads (missing lists, label maps): a copy of it
    installed into a fresh venv rejects a listed sample, run from a folder outside the project.
    The dependencies come from this venv through a .pth line (installing them would download
    ~100 MB); `skeleton` itself only from the wheel."""
    names = zipfile.ZipFile(wheel).namelist()
    assert "skeleton/ntu/missing/NTU_RGBD_samples_with_missing_skeletons.txt" in names
    assert "skeleton/datasets/label_maps/ntu120.txt" in names

    site, env = install_wheel(tmp_path / "fresh", wheel)
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "test-deps.pth").write_text("\n".join(sorted(deps)) + "\n")

    raw = tmp_path / "raw"
    shutil.copytree(synth_ntu / "ntu60", raw)
    shutil.copy(sorted(raw.glob("*.skeleton"))[0], raw / f"{LISTED_MISSING}.skeleton")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        ["python", "-c", "import skeleton; print(skeleton.__file__)"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(site)), where
    p = subprocess.run(
        ["skeleton", "ntu3d", str(raw), "--out", "out.pkl", "--rejects", "rejects.tsv"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "dataset: ntu60" in p.stderr  # --dataset auto: every sample is in NTU60's range
    assert [(r.sample, r.reason) for r in read_rejects(elsewhere / "rejects.tsv")] == [
        (LISTED_MISSING, "missing_listed")
    ]
    with open(elsewhere / "out.pkl", "rb") as f:
        assert len(pickle.load(f)["annotations"]) == 40


# ---- 2. the demo ----------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_leaves_the_users_results_untouched(tmp_path):
    clone = copy_project(tmp_path / "clone")
    mine = clone / "results/ntu60/ntu60_3d.pkl"  # a user's real results and logs
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"the user's pickle")
    (clone / "logs/ntu60").mkdir(parents=True)
    (clone / "logs/ntu60/package_3d.log").write_text("the user's log\n")
    before = {d: tree_state(clone / d) for d in ("results", "logs")}
    env = {**os.environ, "SKELETON_DEMO_NO_SETUP": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    p = subprocess.run(
        ["bash", str(clone / ".ci/demo"), "--config", 'demo={"samples": 24, "seed": 0}'],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert {d: tree_state(clone / d) for d in ("results", "logs")} == before
    assert not (clone / ".snakemake").exists() and not (clone / "benchmarks").exists()
    for ds in ("ntu60", "ntu120"):
        assert (clone / f"demo/results/{ds}/{ds}_3d.pkl").is_file()
        # the demo's data hold one malformed and one listed-missing sample: the summary shows
        # what a real run's does, rejects and the report's path
        counts = {"ntu60": 12, "ntu120": 24}[ds]  # NTU120 holds NTU60's samples too
        outside = ", 12 left out (not_in_dataset 12)" if ds == "ntu60" else ""
        head = f"{ds} 3d: {counts} samples, 2 rejected (malformed 1, missing_listed 1){outside}; "
        assert head in p.stderr, p.stderr
    last = p.stdout.strip().splitlines()[-1]
    cores = len(os.sched_getaffinity(0))  # what nproc says
    assert last.strip().startswith(f"snakemake --cores {cores} ntu120 --config ntu="), last

    # a second demo is a no-op for Snakemake: nothing rerun, nothing rewritten
    state = tree_state(clone / "demo/results")
    p = subprocess.run(
        ["bash", str(clone / ".ci/demo"), "--config", 'demo={"samples": 24, "seed": 0}'],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Nothing to be done" in p.stdout + p.stderr, p.stdout + p.stderr
    assert tree_state(clone / "demo/results") == state


# ---- 3. config errors -----------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path, synth_ntu) -> Path:
    wd = tmp_path / "wd"
    shutil.copytree(synth_ntu / "ntu60", wd / "raw")
    return wd


def write_config(wd: Path, **ntu) -> Path:
    cfg = {"ntu": {"skeletons": ["raw"], "datasets": ["ntu60"], "shard_size": 20000, **ntu}}
    (wd / "my.yaml").write_text(yaml.safe_dump(cfg))
    return wd / "my.yaml"


@pytest.mark.slow
def test_config_typo_costs_a_few_lines_naming_the_key(workdir):
    cfg = write_config(workdir, shard_sise=5)
    p = snakemake(workdir, "-n", "ntu60", "--configfile", str(cfg))
    out = (p.stdout + p.stderr).strip().splitlines()
    assert p.returncode != 0 and len(out) <= 20, out
    text = "\n".join(out)
    assert "unknown key ntu.shard_sise (set in my.yaml): did you mean shard_size?" in text
    assert "Traceback" not in text and "common.smk" not in text

    cfg = write_config(workdir, denoise="pysk")
    p = snakemake(workdir, "-n", "ntu60", "--configfile", str(cfg), "--config", "strict=maybe")
    text = p.stdout + p.stderr
    assert p.returncode != 0 and len(text.strip().splitlines()) <= 20, text
    assert "ntu.denoise = 'pysk' (set in my.yaml): allowed: pyskl, energy" in text
    assert "strict = 'maybe' (set in --config)" in text

    p = snakemake(workdir, "-n", "ntu60", "--configfile", str(cfg), "--config", "strct=true")
    out = (p.stdout + p.stderr).strip().splitlines()  # top level: Snakemake dumps the schema
    assert p.returncode != 0 and len(out) <= 20, out
    assert "unknown key strct (set in --config): did you mean strict?" in "\n".join(out)


@pytest.mark.slow
def test_true_and_numbers_are_accepted_from_the_command_line(workdir):
    cfg = write_config(workdir)
    p = snakemake(
        workdir, "-n", "ntu60", "--configfile", str(cfg),
        "--config", "strict=true", 'ntu={"skeletons": ["raw"], "shard_size": 20000}',
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr  # the schema wants a boolean and an integer


def test_config_explanations():
    schema = yaml.safe_load((REPO / "config/schema/config.schema.yaml").read_text())
    config = {"ntu": {"skeletons": [], "shard_size": "12", "datasets": ["ntu61"]}, "strict": "no"}
    coerce_strings(config, schema)
    assert config["ntu"]["shard_size"] == 12 and config["strict"] is False
    assert coerce_strings({"pose": {"device": "1"}}, schema)["pose"]["device"] == "1"  # a string
    sources = [("--config", {"ntu": {"datasets": ["ntu61"]}}), ("my.yaml", config)]
    lines = explain_config_errors(config, schema, sources, REPO / "config/config.yaml")
    assert lines[0] == "Config error (config from my.yaml, --config, later ones win):"
    assert lines[1].startswith("  ntu.datasets.0 = 'ntu61' (set in --config): allowed: ntu60")
    assert lines[-1].startswith("Every key is described in ") and len(lines) == 3
    valid = {"ntu": {"skeletons": [], "datasets": ["ntu60"]}, "strict": False}
    assert explain_config_errors(valid, schema, []) == []  # the schema's defaults fill the rest


# ---- 4. summaries at the end of a run -------------------------------------------------------


def malformed_copy(dest: Path, template: Path) -> str:
    """One malformed raw file: the real corrupted one from ../shared, else a joint line of a
    synthetic file with a 13th token."""
    if MALFORMED.exists():
        shutil.copy(MALFORMED, dest / MALFORMED.name)
        return MALFORMED.stem
    lines = template.read_bytes().split(b"\n")
    lines[5] += b" 0"
    name = "S001C001P001R001A002"
    (dest / f"{name}.skeleton").write_bytes(b"\n".join(lines))
    return name


@pytest.mark.slow
def test_run_names_the_malformed_file_on_the_console(workdir):
    raw = workdir / "raw"
    name = malformed_copy(raw, sorted(raw.glob("*.skeleton"))[0])
    cfg = write_config(workdir)
    p = snakemake(workdir, "--cores", "2", "ntu60", "--configfile", str(cfg))
    assert p.returncode == 0, p.stdout + p.stderr
    tail = p.stderr[p.stderr.index("Datasets packaged in this run (1):") :]
    assert (
        "ntu60 3d: 40 samples, 1 rejected (malformed 1); report: results/ntu60/rejects.tsv" in tail
    )
    assert f"  {name}: malformed: raw/{name}.skeleton:" in tail
    assert (
        "  pickle: results/ntu60/ntu60_3d.pkl, splits xsub_train xsub_val xview_train xview_val: "
        "one pickle for every benchmark (xsub, xview)"
    ) in tail
    log = (workdir / "logs/ntu60/package_3d.log").read_text()
    assert "ntu60 3d: 40 samples, 1 rejected (malformed 1)" in log

    # strict: the packaging fails; the report is its own step's output, so it stays and the
    # summary names it
    p = snakemake(
        workdir, "--cores", "2", "ntu60", "--configfile", str(cfg), "--config", "strict=true"
    )
    assert p.returncode != 0
    # the job's own line comes first, names the report and the log; its traceback is only in
    # the log
    (line,) = [x for x in p.stderr.splitlines() if x.startswith("strict mode: ")]
    assert line == (
        "strict mode: ntu60: 1 sample(s) rejected (malformed 1); see "
        "results/ntu60/rejects.tsv (details in logs/ntu60/package_3d.log)"
    )
    assert p.stderr.index(line) < p.stderr.index("Error in rule ntu_package")
    assert "Traceback" not in p.stderr and "StrictModeError" not in p.stderr
    assert "Traceback" in (workdir / "logs/ntu60/package_3d.log").read_text()
    tail = p.stderr[p.stderr.index("Datasets packaged in this run (1):") :]
    assert "ntu60 3d: FAILED (strict: 1 sample(s) rejected); 40 samples, 1 rejected" in tail
    assert "report: results/ntu60/rejects.tsv" in tail
    assert f"{name}\t" in (workdir / "results/ntu60/rejects.tsv").read_text()
    summary = json.loads((workdir / "logs/ntu60/package_3d.summary.json").read_text())
    assert summary["reasons"] == {"malformed": 1} and summary["error"]

    # a no-op rerun prints no stale summary
    p = snakemake(workdir, "--cores", "2", "ntu60", "--configfile", str(cfg), "-n")
    assert "Datasets packaged" not in p.stdout + p.stderr


# ---- 5.-7. the command line -----------------------------------------------------------------


@pytest.mark.skipif(
    find_spec("ultralytics") is not None or find_spec("mmpose") is not None,
    reason="this interpreter has the pose libraries",
)
@pytest.mark.parametrize("command", [["pose", "x.avi", "--out", "o.pkl"], ["pose-tag"]])
@pytest.mark.parametrize("backend", ["yolo", "mmpose"])
def test_pose_commands_without_the_pose_env_say_what_to_do(command, backend, tmp_path):
    p = run_skeleton(*command, "--backend", backend, cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and "skeleton make-env pose" in p.stderr, p.stderr


# Workflow-step and tool commands (the pose and dataset commands are described elsewhere).
DESCRIBED = [
    ["ntu3d"], ["ntu-index"], ["ntu-parse-shard"], ["ntu-splits"], ["ntu-package"], ["info"],
    ["synth-ntu"], ["validate"], ["fetch"], ["convert", "split"], ["convert", "merge"],
    ["convert", "babel"], ["visualize"], ["make-env"],
]  # fmt: skip


def _subparser(parser: argparse.ArgumentParser, path: list[str]) -> argparse.ArgumentParser:
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def _every_command(parser: argparse.ArgumentParser, path: list[str]) -> list[list[str]]:
    found = [path] if path else []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _every_command(sub, [*path, name])
    return found


def _all_commands() -> list[list[str]]:
    from skeleton.cli import build_parser

    return _every_command(build_parser(), [])


def test_every_command_is_checked_for_its_help():
    assert set(map(tuple, DESCRIBED)) <= set(map(tuple, _all_commands()))
    assert len(_all_commands()) >= 20


@pytest.mark.parametrize("path", _all_commands(), ids=" ".join)
def test_help_describes_every_argument_and_default(path):
    """Every positional and option has a description; a default is shown, and always written
    '(default: X)' or 'default: X'."""
    from skeleton.cli import build_parser

    parser = _subparser(build_parser(), path)
    assert parser.description, path
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = action.option_strings[-1] if action.option_strings else action.dest
        assert action.help, f"skeleton {' '.join(path)} {name}: no description"
        default = action.default
        if default not in (None, False, argparse.SUPPRESS) and not action.required:
            assert "default: " in action.help, f"{' '.join(path)} {name}: default not shown"
        assert "default " not in action.help.replace("default: ", ""), (
            f"{' '.join(path)} {name}: write defaults as 'default: X': {action.help}"
        )


def test_ntu3d_dataset_auto_and_the_ntu60_hint(tmp_path, synth_ntu):
    out = tmp_path / "o.pkl"
    p = run_skeleton("ntu3d", synth_ntu / "ntu60", "--out", out)
    assert p.returncode == 0 and "dataset: ntu60" in p.stderr
    with open(out, "rb") as f:
        assert "xview_train" in pickle.load(f)["split"]
    p = run_skeleton("ntu3d", synth_ntu / "ntu60", synth_ntu / "ntu120", "--out", out)
    assert p.returncode == 0 and "dataset: ntu120" in p.stderr
    # nothing in NTU60's range: the hint; a broken NTU60 file: no hint, and no temporary report
    only120 = tmp_path / "only120"
    only120.mkdir()
    for i, f in enumerate(sorted((synth_ntu / "ntu60").glob("*.skeleton"))[:2]):
        shutil.copy(f, only120 / f"S018C001P001R001A{61 + i:03d}.skeleton")
    p = run_skeleton("ntu3d", only120, "--out", out, "--dataset", "ntu60")
    assert p.returncode == 2 and "which needs S001-S017 / A001-A060" in p.stderr, p.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "S001C001P001R001A001.skeleton").write_text("1\n1\n")
    p = run_skeleton("ntu3d", bad, "--out", out, "--dataset", "ntu60")
    assert p.returncode == 2 and "malformed" in p.stderr
    assert "S001-S017" not in p.stderr and "rejects.tsv" not in p.stderr, p.stderr


# ---- 8. outputs that cannot be written: checked first, one line ------------------------------


@pytest.mark.parametrize(
    ("option", "where", "why"),
    [
        ("--out", "a_file/out.pkl", "a_file is a file, not a folder"),
        ("--out", "a_folder", "it is a folder (give a file name)"),
        ("--rejects", "a_file/sub/r.tsv", "a_file is a file, not a folder"),
        ("--manifest", "a_file/m.json", "a_file is a file, not a folder"),
    ],
)
def test_ntu3d_checks_its_outputs_before_parsing(tmp_path, synth_ntu, option, where, why):
    (tmp_path / "a_file").write_text("not a folder\n")
    (tmp_path / "a_folder").mkdir()
    args = {"--out": "out.pkl", option: where}
    p = run_skeleton(
        "ntu3d", synth_ntu / "ntu60", *(x for kv in args.items() for x in kv), cwd=tmp_path
    )
    (line,) = p.stderr.splitlines()  # nothing parsed: no 'parse:' progress before the error
    assert p.returncode == 2 and line.startswith(f"skeleton ntu3d: error: cannot write {option} ")
    assert line.endswith(why), line
    assert not (tmp_path / "out.pkl").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_ntu3d_names_a_folder_without_write_permission(tmp_path, synth_ntu):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    p = run_skeleton("ntu3d", synth_ntu / "ntu60", "--out", locked / "o.pkl")
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert "cannot write --out" in p.stderr and "permission denied" in p.stderr


@pytest.mark.slow
def test_workflow_results_folder_that_cannot_be_written(workdir):
    cfg = write_config(workdir)
    (workdir / "results").write_text("a file where the results folder goes\n")
    p = snakemake(workdir, "--cores", "2", "ntu60", "--configfile", str(cfg))
    assert p.returncode != 0
    assert "cannot write in results: " in p.stderr and "is a file, not a folder" in p.stderr
    assert "Traceback" not in p.stderr and "rule ntu_index" not in p.stdout + p.stderr


def test_a_typo_in_a_video_dataset_section_names_the_key():
    """The video datasets share one schema block ($ref): their keys are known too."""
    from skeleton.workflow.configcheck import explain_config_errors

    schema = yaml.safe_load((REPO / "config/schema/config.schema.yaml").read_text())
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["ucf101"] = {"videoz": "x"}
    lines = explain_config_errors(config, schema, [("my.yaml", {"ucf101": {"videoz": "x"}})])
    assert any(
        "unknown key ucf101.videoz (set in my.yaml): did you mean videos?" in line for line in lines
    ), lines
