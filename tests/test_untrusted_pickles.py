"""Every pickle-reading command on a corpus of crafted pickles (tests/crafted_pickles.py), each
in its own process under a 3 GB address-space cap and a 60 s alarm: exit 1 or 2 with a short
reason, never a signal, a traceback or an address; no payload runs; nothing is written outside
the command's output folder. Benign pickles in unusual encodings still load. ~3 min on 2 cores
(forked children: ~30 ms a case).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skeleton.core import safeload
from skeleton.ntu.shards import SHARD_FORMAT

sys.path.insert(0, str(Path(__file__).parent))
import crafted_pickles  # noqa: E402

TESTS = Path(__file__).resolve().parent
SAMPLE = "S001C001P001R001A001"
ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
MAX_LINE = 1000  # a reason fits on a line


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def _commands(pkl: Path, out: Path, aux: Path) -> dict[str, list[str]]:
    """Every command that reads an annotation pickle, with `pkl` as that pickle."""
    return {
        "validate": ["validate", str(pkl)],
        "info": ["info", str(pkl)],
        "convert-split": ["convert", "split", str(pkl), str(out)],
        "convert-merge": ["convert", "merge", str(out / "merged.pkl"), str(pkl)],
        "convert-babel": [
            "convert",
            "babel",
            str(out / "babel.pkl"),
            str(aux / "train_ntu_sk_60.npy"),
            "--labels",
            str(pkl),
        ],  # fmt: skip
        "visualize": [
            "visualize",
            str(pkl),
            "--sample",
            SAMPLE,
            "--kind",
            "skeleton3d",
            "--out",
            str(out / "v.png"),
        ],  # fmt: skip
        "k400-dense": ["k400-dense", str(pkl), SAMPLE, "--out", str(out / "dense.pkl")],
        "pose-quality": ["pose-quality", str(pkl), "--skeletons", str(aux / "skeletons")],
        "pose-drift": ["pose-drift", str(pkl), str(pkl)],
        "ntu-package": [
            "ntu-package",
            str(aux / "index.tsv"),
            str(pkl),
            "--splits",
            str(aux / "splits.json"),
            "--dataset",
            "ntu60",
            "--out",
            str(out / "p.pkl"),
            "--rejects",
            str(out / "r.tsv"),
            "--manifest",
            str(out / "m.json"),
        ],  # fmt: skip
    }


@pytest.fixture(scope="module")
def aux(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Other inputs the commands need: a BABEL array, a skeleton file, an NTU index."""
    from skeleton.ntu.index import ntu_index
    from skeleton.ntu.names import parse_name
    from skeleton.ntu.package import ntu_splits
    from skeleton.ntu.synth import write_names

    root = tmp_path_factory.mktemp("aux")
    np.save(root / "train_ntu_sk_60.npy", np.zeros((1, 3, 4, 25, 1), np.float32))
    write_names(root / "skeletons", [parse_name(SAMPLE)], seed=0, frames=(40, 41))
    ntu_index([str(root / "skeletons")], 10, root / "index.tsv")
    ntu_splits(str(root / "index.tsv"), "ntu60", str(root / "splits.json"))
    return root


# Commands the whole corpus goes through; the other readers get every 4th file and the bombs.
EVERY_FILE = ("validate", "info", "convert-split")


def _run_corpus(root: Path, corpus: dict[str, bytes], aux: Path) -> list[dict]:
    cases = []
    for k, (name, data) in enumerate(corpus.items()):
        case_dir = root / name
        (case_dir / "out").mkdir(parents=True)
        pkl = case_dir / f"{name}.pkl"
        pkl.write_bytes(data)
        # a digest that matches, so ntu-package goes on to load the shard with the safe loader
        digest = {"format": SHARD_FORMAT, "pkl": {"sha256": hashlib.sha256(data).hexdigest(),
                  "size": len(data)}, "samples": 0, "rejects": [], "checksums": {}}  # fmt: skip
        (case_dir / f"{name}.json").write_text(json.dumps(digest))
        for command, argv in _commands(pkl, case_dir / "out", aux).items():
            if command not in EVERY_FILE and k % 4 and not name.startswith(("bomb-", "benign")):
                continue
            cases.append(
                {
                    "name": name,
                    "command": command,
                    "argv": argv,
                    "cwd": str(case_dir / "out"),
                    "out": str(case_dir / f"{command}"),
                }
            )
    (root / "cases.json").write_text(json.dumps(cases))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    subprocess.run(
        [sys.executable, str(TESTS / "pickle_readers.py"), root / "cases.json", root / "res.json"],
        check=True,
        env=env,
        timeout=3600,
    )
    results = json.loads((root / "res.json").read_text())
    for case, result in zip(cases, results, strict=True):
        case.update(result)
        case["stdout"] = Path(case["out"] + ".out").read_text(errors="replace")
        case["stderr"] = Path(case["out"] + ".err").read_text(errors="replace")
    return cases


def _problems(case: dict) -> list[str]:
    where = f"{case['command']} {case['name']}"
    text = case["stdout"] + case["stderr"]
    bad = []
    if case["signal"] is not None:
        bad.append(f"{where}: killed by signal {case['signal']} after {case['seconds']} s")
    if "Traceback" in case["stderr"]:
        bad.append(f"{where}: traceback: {case['stderr'][-300:]!r}")
    if ADDRESS.search(text):
        bad.append(f"{where}: an address in the output: {ADDRESS.search(text)[0]}")
    long = [line for line in text.splitlines() if len(line) > MAX_LINE]
    if long:
        bad.append(f"{where}: a {len(long[0])}-character line")
    return bad


@pytest.mark.slow
def test_crafted_pickles_refused_by_every_reader(tmp_path: Path, aux: Path) -> None:
    marker = tmp_path / "PWNED"
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    corpus = crafted_pickles.crafted(str(marker))
    before = _tree(aux)
    cases = _run_corpus(tmp_path / "corpus", corpus, aux)
    problems = []
    for case in cases:
        problems += _problems(case)
        may_work = case["name"] in crafted_pickles.VALID or (
            # visualize checks the one sample it draws, not the split
            case["command"] == "visualize" and case["name"].startswith(("odd-split-", "path-"))
        )
        if case["exit"] not in (1, 2) and not (may_work and case["exit"] == 0):
            problems.append(
                f"{case['command']} {case['name']}: exit {case['exit']} (want 1 or 2): "
                f"{(case['stdout'] + case['stderr'])[-300:]!r}"
            )
        elif not case["stderr"].strip() and not case["stdout"].strip():
            problems.append(f"{case['command']} {case['name']}: exit {case['exit']} silently")
    if os.environ.get("SKELETON_CORPUS_PROBLEMS"):  # all of them, for debugging
        Path(os.environ["SKELETON_CORPUS_PROBLEMS"]).write_text("\n".join(problems))
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} problems)"
    assert not marker.exists(), "a payload ran"
    assert victim.read_text() == "keep me"
    # writes stay in each case's out/ folder: nothing new beside the corpus, nothing in aux
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "victim"]
    assert _tree(aux) == before
    for name in corpus:
        case_dir = tmp_path / "corpus" / name
        expected = {f"{name}.pkl", f"{name}.json", "out"} | {
            f"{c}{s}" for c in _commands(Path(), Path(), Path()) for s in (".out", ".err")
        }
        assert {p.name for p in case_dir.iterdir()} <= expected, name
    slow = sorted(cases, key=lambda c: -c["seconds"])[:3]
    print("slowest:", [(c["command"], c["name"], c["seconds"]) for c in slow])


def test_benign_pickles_read_by_validate_info_and_split(tmp_path: Path, aux: Path) -> None:
    cases = _run_corpus(tmp_path / "corpus", crafted_pickles.benign(), aux)
    problems = []
    for case in cases:
        problems += _problems(case)
        must_work = ["validate", "info"]
        if case["name"] != "benign-plain-list":  # the others carry a split
            must_work += ["convert-split", "convert-merge"]
        if case["command"] in must_work and case["exit"] != 0:
            output = (case["stdout"] + case["stderr"])[-300:]
            problems.append(f"{case['command']} {case['name']}: exit {case['exit']}: {output!r}")
    assert not problems, "\n".join(problems)


def test_every_truncation_of_a_real_pickle_is_a_one_line_error() -> None:
    data = pickle.dumps(crafted_pickles.benign_data(), protocol=4)
    for cut in range(len(data) - 1):
        with pytest.raises(safeload.CorruptPickleError) as err:
            safeload.loads(data[:cut], "cut.pkl")
        assert "\n" not in str(err.value) and str(err.value).startswith("cut.pkl: corrupt pickle")
    for k in range(0, len(data), 7):  # one flipped byte: refused, corrupt or loaded, no crash
        flipped = data[:k] + bytes([data[k] ^ 0xFF]) + data[k + 1 :]
        try:
            safeload.loads(flipped)
        except safeload.PickleError as exc:
            assert "\n" not in str(exc)


def test_loader_bounds_are_relative_to_the_file() -> None:
    # A big real pickle passes the size bound that stops a small bomb.
    names = [f"S001C001P{i:03d}R001A{(i % 60) + 1:03d}" for i in range(2000)]
    anns = [
        {"frame_dir": n, "label": 0, "keypoint": np.zeros((1, 3, 25, 3), np.float16),
         "total_frames": 3}
        for n in names
    ]  # fmt: skip
    data = {"split": {"a": names, "b": names, "c": names[::-1]}, "annotations": anns}
    back = safeload.loads(pickle.dumps(data, protocol=4))  # memo: split strings shared
    assert back["split"]["c"][0] == names[-1] and len(back["annotations"]) == 2000
    nested: list = []
    for _ in range(safeload.MAX_DEPTH - 1):
        nested = [nested]
    assert safeload.loads(pickle.dumps(nested)) == nested
    with pytest.raises(safeload.UnsafePickleError, match="nested deeper"):
        safeload.loads(pickle.dumps([nested]))
