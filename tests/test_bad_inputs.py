"""A corpus of broken inputs next to good ones, through `skeleton ntu3d` and the workflow.

Every bad input must end in the rejects report with its specific reason (and, for content errors,
the file and line in the detail), every good sample beside it must be packaged, the run exits 0,
and non-zero in strict mode. Videos: the decode-level cases of `skeleton.pose.video`.
"""

from __future__ import annotations

import pickle
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import REPO, run_skeleton, run_snakemake, write_frames

from skeleton.core.rejects import read_rejects
from skeleton.ntu.names import SampleName, missing_samples, parse_name
from skeleton.ntu.synth import sample_text, write_synthetic

TIMEOUT_S = 600


@dataclass(frozen=True)
class Bad:
    """One bad input: where it lies, which reject it must produce, and the line when known."""

    sample: str  # the rejects report's sample column (the file's stem for bad names)
    path: Path
    reason: str
    line: int | None = None  # 1-based line the detail must name (content errors)
    detail: str = ""  # a fragment the detail must contain


def layout(lines: list[bytes]) -> dict[str, list[int]]:
    """0-based line indices of a valid file's parts: body counts, body lines, joint lines."""
    out: dict[str, list[int]] = {"count": [], "body": [], "joint": []}
    i = 1
    for _ in range(int(lines[0])):
        out["count"].append(i)
        nb = int(lines[i])
        i += 1
        for _ in range(nb):
            out["body"].append(i)
            i += 2  # body line, joint count
            out["joint"] += range(i, i + 25)
            i += 25
    assert i == len(lines)
    return out


def good_text(seed: int) -> list[bytes]:
    """A valid one-person file (LF), as lines without their newline."""
    rng = np.random.default_rng(seed)
    text = sample_text(SampleName(1, 1, 1, 1, 1), rng, frames=(30, 31))
    return text.encode().split(b"\n")[:-1]


def join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def replace_token(line: bytes, index: int, token: bytes) -> bytes:
    toks = line.split()
    toks[index] = token
    return b" ".join(toks)


def fresh_names(avoid: set[str], count: int) -> list[str]:
    """Valid NTU60 names (so both datasets' reports list them), not listed as missing."""
    missing = missing_samples("ntu120")
    out = []
    for p in range(1, 41):
        for a in range(1, 61):
            n = SampleName(9, 2, p, 1, a).name
            if n not in avoid and n not in missing:
                out.append(n)
            if len(out) == count:
                return out
    raise AssertionError("not enough names")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], set[str], list[Bad]]:
    """Two input folders: good synthetic samples, and every kind of bad input."""
    root = tmp_path_factory.mktemp("bad_inputs")
    a, b = root / "input_a", root / "input_b"
    good = {p.stem for p in write_synthetic(a, 24, seed=21, ntu120=True)}
    b.mkdir()
    lines = good_text(seed=5)
    parts = layout(lines)
    j = parts["joint"][30]  # a joint line of the first or second body occurrence
    j0 = j + 1  # its 1-based line number
    names = iter(fresh_names(good, 40))
    bad: list[Bad] = []

    def content(data: bytes, reason: str, line: int | None, detail: str = "") -> None:
        name = next(names)
        path = a / f"{name}.skeleton"
        path.write_bytes(data)
        bad.append(Bad(name, path, reason, line, detail))

    def edit(index: int, new: bytes) -> bytes:
        return join(lines[:index] + [new] + lines[index + 1 :])

    content(b"", "malformed", 1, "empty file")
    # truncated mid-frame: the file stops after 5 joints of a body
    content(join(lines[: j + 5]), "malformed", j0 + 5, "truncated")
    # truncated mid-line: the last line stops inside its fourth number
    cut = b"\n".join(lines[:j]) + b"\n" + lines[j][: lines[j].index(b" ", 20) - 2]
    content(cut, "malformed", j0, "tokens, expected 12")
    content(edit(j, replace_token(lines[j], 0, b"nan")), "malformed", j0, "non-finite")
    content(edit(j, replace_token(lines[j], 2, b"-inf")), "malformed", j0, "non-finite")
    content(edit(j, replace_token(lines[j], 1, b"1e999")), "malformed", j0, "non-finite")
    content(edit(j, lines[j] + b" 0"), "malformed", j0, "has 13 tokens")
    content(edit(j, b" ".join(lines[j].split()[:11])), "malformed", j0, "has 11 tokens")
    c = parts["count"][3]
    content(edit(c, b"-1"), "malformed", c + 1, "non-negative integer")
    content(edit(0, b"-30"), "malformed", 1, "non-negative integer")
    # the last frame claims 3 bodies but the file holds only the lines of its 1 (or 0)
    last = parts["count"][-1]
    content(edit(last, b"3"), "malformed", None, "truncated")
    content(edit(j, replace_token(lines[j], 0, b"0.1\xff\xfe")), "malformed", j0, "non-numeric")
    content(edit(0, b"\xff\xfe3\x000"), "malformed", 1)  # non-UTF-8 in the header
    rng = np.random.default_rng(0)
    content(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(), "malformed", None)
    content(join(lines) + b"7\n", "malformed", len(lines) + 1, "unexpected content")
    # valid format, but not one body in any frame
    content(join([b"3", b"0", b"0", b"0"]), "no_skeleton", None)

    for stem, fragment in [
        ("S001C001P001R001A1", "not an NTU sample name"),
        ("notes", "not an NTU sample name"),
        ("S040C001P001R001A001", "setup 40 outside 1..32"),
        ("S001C004P001R001A001", "camera 4 outside 1..3"),
    ]:
        path = a / f"{stem}.skeleton"
        path.write_bytes(join(lines))
        bad.append(Bad(stem, path, "bad_name", None, fragment))

    # duplicates: identical copies are kept once, different copies are rejected naming both
    same, differ = next(names), next(names)
    for folder in (a, b):
        (folder / f"{same}.skeleton").write_bytes(join(lines))
    (a / f"{differ}.skeleton").write_bytes(join(lines))
    (b / f"{differ}.skeleton").write_bytes(join(good_text(seed=6)))
    bad.append(Bad(differ, a / f"{differ}.skeleton", "duplicate_conflict", None, str(b)))
    good.add(same)

    listed = sorted(n for n in missing_samples("ntu60"))[0]  # valid content, but on the list
    (b / f"{listed}.skeleton").write_bytes(join(lines))
    bad.append(Bad(listed, b / f"{listed}.skeleton", "missing_listed", None))
    return [a, b], good, bad


def check_rejects(rejects_tsv: Path, bad: list[Bad], outside: set[str] = frozenset()) -> None:
    """The report lists exactly the corpus's bad inputs, and `outside` (good samples not in
    the dataset) as not_in_dataset."""
    rows = read_rejects(rejects_tsv)
    assert {r.sample for r in rows if r.reason == "not_in_dataset"} == outside
    got = {(r.sample, r.reason): r for r in rows if r.reason != "not_in_dataset"}
    assert set(got) == {(x.sample, x.reason) for x in bad}, "rejects differ from the corpus"
    for x in bad:
        r = got[(x.sample, x.reason)]
        assert r.source == str(x.path), r
        if x.reason in ("malformed", "no_skeleton"):
            assert str(x.path) in r.detail, r  # the detail names the file ...
        if x.line is not None:
            assert f"{x.path}:{x.line}:" in r.detail, r  # ... and the line
        assert x.detail in r.detail, r


def check_pickle(pkl: Path, good: set[str]) -> None:
    with open(pkl, "rb") as f:  # our own output
        data = pickle.load(f)
    names = [a["frame_dir"] for a in data["annotations"]]
    assert sorted(names) == sorted(good), "every good sample is packaged, once"
    assert {n for v in data["split"].values() for n in v} == set(names)


def test_ntu3d_cli_rejects_every_bad_input(corpus, tmp_path):
    inputs, good, bad = corpus
    out, rej = tmp_path / "out.pkl", tmp_path / "rejects.tsv"
    res = run_skeleton("ntu3d", *inputs, "--out", out, "--rejects", rej, timeout=TIMEOUT_S)
    assert res.returncode == 0, res.stderr
    check_rejects(rej, bad)
    check_pickle(out, good)
    assert f"rejected {len(bad)}" in res.stderr

    strict_out = tmp_path / "strict.pkl"
    res = run_skeleton(
        "ntu3d", *inputs, "--out", strict_out, "--rejects", rej, "--strict", timeout=TIMEOUT_S
    )
    assert res.returncode != 0
    check_rejects(rej, bad)  # the report is still written in strict mode


def snakemake(wd: Path, inputs: list[Path], strict: bool) -> subprocess.CompletedProcess:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["ntu"].update(skeletons=[str(p) for p in inputs], shard_size=20000)
    config["strict"] = strict
    wd.mkdir(parents=True)
    (wd / "config.yaml").write_text(yaml.safe_dump(config))
    targets = ["ntu120", "ntu60", "--cores", "2"]
    return run_snakemake(wd, *targets, configfile="config.yaml", check=False, timeout=TIMEOUT_S)


@pytest.mark.slow
def test_workflow_rejects_every_bad_input(corpus, tmp_path):
    inputs, good, bad = corpus
    wd = tmp_path / "wd"
    res = snakemake(wd, inputs, strict=False)
    assert res.returncode == 0, res.stdout + res.stderr
    check_rejects(wd / "results/ntu120/rejects.tsv", bad)
    check_pickle(wd / "results/ntu120/ntu120_3d.pkl", good)
    # NTU60's report and pickle: the same, restricted to NTU60 samples (bad names are in both)
    ntu60 = [x for x in bad if x.reason == "bad_name" or parse_name(x.sample).in_ntu60]
    outside = {n for n in good if not parse_name(n).in_ntu60}
    check_rejects(wd / "results/ntu60/rejects.tsv", ntu60, outside)
    check_pickle(wd / "results/ntu60/ntu60_3d.pkl", {n for n in good if parse_name(n).in_ntu60})

    res = snakemake(tmp_path / "strict", inputs, strict=True)
    assert res.returncode != 0
    # whichever package job ran first failed and stopped the run; its log lists every reject
    logs = {ds: tmp_path / "strict" / f"logs/{ds}/package_3d.log" for ds in ("ntu60", "ntu120")}
    assert any(p.exists() for p in logs.values()), res.stdout + res.stderr
    if logs["ntu120"].exists():
        log = logs["ntu120"].read_text()
        assert f"{len(bad)} sample(s) rejected" in log
    else:
        log = logs["ntu60"].read_text()
        assert f"{len(ntu60)} sample(s) rejected" in log
    assert "rejected: " in log


# --- videos: decode-level failures (skeleton.pose.video); "no person" needs a pose backend --------


def write_video(path: Path, frames: int) -> None:
    """160 x 120 frames, frame i with a bar 7 i mod 160 px wide."""
    images = [np.zeros((120, 160, 3), np.uint8) for _ in range(frames)]
    for i, img in enumerate(images):
        img[:, : (i * 7) % 160] = 200
    write_frames(path, images)


def test_bad_videos_get_specific_reasons(tmp_path):
    pytest.importorskip("cv2", reason="OpenCV is not installed in this environment")
    from skeleton.pose.video import VideoError, probe

    good = tmp_path / "S001C001P001R001A001_rgb.avi"
    write_video(good, 60)
    full = good.read_bytes()
    cases = {
        "S001C001P001R001A002_rgb.avi": (b"", {"empty_video"}),
        "S001C001P001R001A003_rgb.avi": (full[: len(full) // 2], {"truncated_video"}),
        "S001C001P001R001A004_rgb.avi": (b"not a video\n" * 100, {"undecodable_video"}),
    }
    for name, (data, _) in cases.items():
        (tmp_path / name).write_bytes(data)
    zero = tmp_path / "S001C001P001R001A005_rgb.avi"
    write_video(zero, 0)
    cases[zero.name] = (b"", {"no_frames", "undecodable_video"})
    info = probe(good)
    assert (info.decoded_frames, info.img_shape) == (60, (120, 160))
    for name, (_, reasons) in cases.items():
        with pytest.raises(VideoError) as err:
            probe(tmp_path / name)
        assert err.value.reason in reasons, (name, err.value)
        assert str(tmp_path / name) in str(err.value)
