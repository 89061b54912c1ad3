"""Restricted unpickler and `skeleton validate` on pickles built here (real pickle bytes)."""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REAL_SKELETONS

from skeleton.commands import validate as validate_cmd
from skeleton.core import safeload
from skeleton.core.validate import format_problems, validate_data, validate_file


def run_validate(*argv: str) -> int:
    """`skeleton validate ...` through its registered parser (as skeleton.cli.main does)."""
    from skeleton.cli import UsageError

    parser = argparse.ArgumentParser(prog="skeleton")
    validate_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["validate", *argv])
    try:
        return args.func(args)
    except UsageError:
        return 2


def ann3d(name: str, frames: int = 30, label: int = 0, persons: int = 2) -> dict:
    rng = np.random.default_rng(len(name) + frames)
    kp = rng.normal(size=(persons, frames, 25, 3)).astype(np.float16)
    return {"frame_dir": name, "label": label, "keypoint": kp, "total_frames": frames}


def ann2d(name: str, frames: int = 20, label: int = 1) -> dict:
    rng = np.random.default_rng(frames)
    return {
        "frame_dir": name,
        "label": label,
        "img_shape": (1080, 1920),
        "original_shape": (1080, 1920),
        "total_frames": frames,
        "keypoint": (rng.random((1, frames, 17, 2)) * 1000).astype(np.float32),
        "keypoint_score": rng.random((1, frames, 17)).astype(np.float16),
    }


def combined(annotations: list[dict], split: dict[str, list[str]] | None = None) -> dict:
    names = [a["frame_dir"] for a in annotations]
    return {
        "split": split or {"xsub_train": names[:-1], "xsub_val": names[-1:]},
        "annotations": annotations,
    }


def dump(obj: object, path: Path, protocol: int = pickle.HIGHEST_PROTOCOL) -> Path:
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


# --- restricted unpickler -------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_safe_load_roundtrips_numpy_and_builtins(protocol: int, tmp_path: Path) -> None:
    obj = {
        "arrays": [
            np.arange(24, dtype=np.float16).reshape(2, 3, 4),
            np.linspace(0, 1, 7, dtype=np.float32),
            np.arange(5, dtype=np.int64),
            np.arange(6, dtype=np.uint8).reshape(2, 3).T,  # non-contiguous
            np.asfortranarray(np.arange(6, dtype=">f8").reshape(2, 3)),  # big-endian, Fortran
            np.array([True, False]),
            np.array([1 + 2j]),
            np.zeros((0, 17, 2), np.float32),
        ],
        "scalars": [np.float32(1.5), np.int64(7), np.bool_(True), np.float16(2)],
        "plain": (1, 2.5, "s", b"\x00\xff", None, True, {1, 2}, frozenset({3}), 3 - 1j, -(2**63)),
        "keys": {0.5: 4, 7: "x", None: (), b"k": [bytearray(b"ab")]},
    }
    back = safeload.load(dump(obj, tmp_path / "ok.pkl", protocol))
    cpython = pickle.loads((tmp_path / "ok.pkl").read_bytes())
    for got, want, ref in zip(back["arrays"], obj["arrays"], cpython["arrays"], strict=True):
        assert got.shape == want.shape and np.array_equal(got, want)
        # as CPython reads it: numpy's __setstate__ (protocols 0-4) makes a big-endian array
        # native, _frombuffer (protocol 5) keeps its dtype
        assert got.dtype == ref.dtype and got.dtype.byteorder == ref.dtype.byteorder
        assert got.flags.writeable and got.flags.owndata
    assert back["scalars"] == obj["scalars"]
    assert [type(s) for s in back["scalars"]] == [type(s) for s in obj["scalars"]]
    assert back["plain"] == obj["plain"] and back["keys"] == obj["keys"]


def test_safe_load_refuses_other_numpy_dtypes() -> None:
    # Only plain numeric and bool arrays are rebuilt: strings, dates, records, objects and
    # numpy 2's StringDType are refused before any array exists.
    arrays = [
        np.array(["S001C001P001R001A001", "x"]),
        np.array([b"ab"]),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        np.zeros(2, dtype=[("xy", "<f4", (2,)), ("score", "<f2")]),
        np.array([1, "a"], dtype=object),
        np.zeros(2, dtype=np.longdouble),
    ]
    if hasattr(np, "dtypes") and hasattr(np.dtypes, "StringDType"):
        arrays.append(np.array(["a", "bcd"], dtype=np.dtypes.StringDType()))
    for arr in arrays:
        for protocol in (2, 5):
            with pytest.raises(safeload.UnsafePickleError):
                safeload.loads(pickle.dumps({"keypoint": arr}, protocol=protocol))
    with pytest.raises(safeload.UnsafePickleError):
        safeload.loads(pickle.dumps(np.datetime64("2020-01-01")))
    # numpy str scalars (BABEL label pickles) are plain text, rebuilt from checked UCS-4
    for protocol in (2, 5):
        back = safeload.loads(pickle.dumps([np.str_("seg"), np.str_("\u00e9t\u00e9")], protocol))
        assert back == ["seg", "\u00e9t\u00e9"] and type(back[0]) is np.str_
    with pytest.raises(safeload.UnsafePickleError, match="numpy.ma.core"):
        safeload.loads(pickle.dumps(np.ma.masked_array([1, 2])))


def test_safe_load_reads_numpy1_spelling() -> None:
    # numpy 1.x writes its reconstruction globals under numpy.core, numpy 2 under numpy._core.
    data = pickle.dumps(np.arange(4, dtype=np.float32), protocol=2)
    legacy = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in legacy
    assert np.array_equal(safeload.loads(legacy), np.arange(4, dtype=np.float32))


class _SystemPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (os.system, (f"touch {self.marker}",))


class _EvalPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (eval, (f"open({str(self.marker)!r}, 'w').close()",))


class _SubprocessPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (subprocess.call, (["touch", str(self.marker)],))


@pytest.mark.parametrize(
    ("payload", "global_name"),
    [(_SystemPayload, "system"), (_EvalPayload, "builtins.eval"), (_SubprocessPayload, "call")],
)
def test_malicious_pickle_refused_without_running(
    payload: type, global_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "pwned"
    # Hidden inside an otherwise valid annotation pickle.
    obj = combined([ann3d("S001C001P001R001A001"), ann3d("S001C001P002R001A001")])
    obj["annotations"][1]["label"] = payload(marker)
    path = dump(obj, tmp_path / "evil.pkl")
    with pytest.raises(safeload.UnsafePickleError) as err:
        safeload.load(path)
    assert global_name in err.value.global_name
    assert run_validate(str(path)) == 2
    assert global_name in capsys.readouterr().err
    assert not marker.exists()


def test_malicious_pickle_in_fresh_interpreter(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = dump([ann3d("a"), _SystemPayload(marker)], tmp_path / "evil.pkl", protocol=2)
    code = "import sys; from skeleton.core import safeload; safeload.load(sys.argv[1])"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0 and "UnsafePickleError" in proc.stderr
    assert "posix.system" in proc.stderr or "nt.system" in proc.stderr
    assert not marker.exists()


def test_refuses_non_allowlisted_harmless_global(tmp_path: Path) -> None:
    import collections

    path = dump({"annotations": collections.OrderedDict(a=1)}, tmp_path / "od.pkl")
    with pytest.raises(safeload.UnsafePickleError, match="collections.OrderedDict"):
        safeload.load(path)


def test_codecs_encode_only_latin1() -> None:
    # Protocol 2 stores bytes as _codecs.encode(str, 'latin1'); other codecs are refused.
    assert safeload.loads(pickle.dumps(b"\x01\xfe", protocol=2)) == b"\x01\xfe"
    crafted = pickle.dumps(b"\x01", protocol=2).replace(b"latin1", b"utf_16")
    with pytest.raises(safeload.UnsafePickleError):
        safeload.loads(crafted)


# --- format checks --------------------------------------------------------------------------


def test_valid_3d_and_2d(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p3 = dump(
        combined([ann3d("S001C001P001R001A001"), ann3d("S001C002P001R001A050", 12, 49)]),
        tmp_path / "ntu_3d.pkl",
    )
    p2 = dump(combined([ann2d("v1"), ann2d("v2", 9, 3)]), tmp_path / "ntu_2d.pkl", protocol=2)
    r3, r2 = validate_file(p3), validate_file(p2)
    assert r3.ok and r3.kind == "3d" and r3.shapes == {"(25, 3)": 2}
    assert r2.ok and r2.kind == "2d" and r2.splits == {"xsub_train": 1, "xsub_val": 1}
    assert run_validate(str(p3)) == 0 and run_validate(str(p2)) == 0
    assert "valid: 3d combined pickle; 2 annotations" in capsys.readouterr().out


def test_num_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = dump([ann3d("a", label=59), ann3d("b", label=60)], tmp_path / "labels.pkl")
    assert run_validate(str(path)) == 0
    assert run_validate(str(path), "--num-classes", "60") == 1
    assert "annotations[1] (b): label 60 >= num_classes 60" in capsys.readouterr().out


def test_plain_list_layout_is_valid() -> None:
    report = validate_data([ann3d("a"), ann3d("b")])
    assert report.ok and report.layout == "list"


def test_k400_compressed_form_is_valid() -> None:
    ann = {
        "frame_dir": "abseiling/-3B32lodo2M_000059_000069",
        "label": 0,
        "img_shape": (340, 256),
        "original_shape": (340, 256),
        "total_frames": 300,
        "raw_file": "kpfiles/part_0.pkl",
        "frame_inds": np.array([0, 0, 1, 2, 299], dtype=np.int16),
        "box_score": np.array([0.9, 0.4, 0.8, 0.95, 0.7], dtype=np.float16),
        "valid": {0.5: 4, 0.7: 3},
    }
    report = validate_data(combined([ann, dict(ann, frame_dir="b")]))
    assert report.ok, report.problems
    assert report.kind == "2d-compressed"
    merged = {k: v for k, v in ann.items() if k not in ("raw_file", "box_score", "valid")}
    merged["keypoint"] = np.random.default_rng(0).random((5, 17, 3)).astype(np.float16)
    assert validate_data([merged]).ok and validate_data([merged]).shapes == {"(17, 2)": 1}
    short = dict(merged, keypoint=merged["keypoint"][:4])
    assert "4 skeletons but 5 frame_inds" in validate_data([short]).problems[0]
    no_valid = {k: v for k, v in ann.items() if k != "valid"}
    assert "compressed annotation lacks valid" in validate_data([no_valid]).problems[0]
    assert "valid[0.5]" in validate_data([dict(ann, valid={0.5: 301})]).problems[0]
    bad = dict(ann, frame_inds=np.array([0, 300]), box_score=np.array([0.5]))
    problems = validate_data([bad]).problems
    assert any("outside total_frames=300" in p for p in problems)
    assert any("box_score shape" in p for p in problems)


def test_invalid_annotations_each_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = ann3d("S001C001P001R001A001")
    short = ann3d("S001C001P001R001A002", frames=30)
    short["total_frames"] = 31  # T mismatch
    nan = ann3d("S001C001P001R001A003")
    nan["keypoint"][0, 3, 4, 1] = np.nan
    neg = ann3d("S001C001P001R001A004", label=-1)
    nokey = ann3d("S001C001P001R001A005")
    del nokey["total_frames"]
    dup = ann3d("S001C001P001R001A001")
    score = ann2d("v2d")
    score["keypoint_score"] = score["keypoint_score"][:, :-1]
    del score["img_shape"]
    flt = ann3d("S001C001P001R001A006")
    flt["label"] = 3.0
    anns = [good, short, nan, neg, nokey, dup, score, flt]
    split = {"xsub_train": [a["frame_dir"] for a in anns] + ["S999C001P001R001A001"]}
    path = dump(combined(anns, split), tmp_path / "bad.pkl")
    problems = validate_file(path).problems
    text = "\n".join(problems)
    assert "T=30 but total_frames=31" in text
    assert "keypoint has 1 NaN/inf values" in text
    assert "(S001C001P001R001A004): label must be a non-negative int, got -1" in text
    assert "missing required keys total_frames" in text
    assert "'S001C001P001R001A001' appears 2 times" in text
    assert "keypoint_score shape (1, 19, 17) != keypoint (M, T, V) (1, 20, 17)" in text
    assert "2D annotation lacks img_shape" in text
    assert "got 3.0" in text
    assert "1 entries not in annotations (S999C001P001R001A001)" in text
    assert "annotations mix kinds" in text
    assert run_validate(str(path)) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(problems) + 1 and out[-1].startswith(f"{path}: INVALID")


def test_problem_list_capped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    anns = [ann3d(f"s{i}", label=-1) for i in range(80)]
    path = dump(anns, tmp_path / "many.pkl")
    assert run_validate(str(path), "--max-problems", "10") == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 12
    assert out[10].endswith("... and 70 more problems")
    assert format_problems(["a", "b"], 1) == ["a", "... and 1 more problem"]


def test_corrupt_and_missing_files(tmp_path: Path) -> None:
    data = pickle.dumps(combined([ann3d("a"), ann3d("b")]))
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(data[: len(data) // 2])
    report = validate_file(truncated)
    assert not report.ok and report.problems[0].startswith("cannot unpickle")
    assert run_validate(str(truncated)) == 1
    assert run_validate(str(tmp_path / "absent.pkl")) == 2


def test_top_level_problems() -> None:
    assert "top level is a str" in validate_data("x").problems[0]
    assert "lacks split" in validate_data({"annotations": []}).problems[0]
    assert validate_data({"split": {}, "annotations": []}).kind == "empty"


# --- end to end: the real CLI, the backbone's NTU pickle ------------------------------------

SHARED_NTU = REAL_SKELETONS  # ../shared/ntu/skeletons, or under $SKELETON_SHARED


def skeleton_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "skeleton", *argv], capture_output=True, text=True, check=False
    )


def test_cli_refuses_malicious_pickle(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = dump(combined([ann3d("a"), ann3d("b")]), tmp_path / "evil.pkl")
    data = pickle.dumps(_SystemPayload(marker), protocol=2)
    path.write_bytes(data)
    proc = skeleton_cli("validate", str(path))
    assert proc.returncode == 2, proc.stderr
    assert "system" in proc.stderr and "refused unsafe pickle" in proc.stderr
    info = skeleton_cli("info", str(path))  # skeleton info uses the same loader
    assert info.returncode == 2 and "refused unsafe pickle" in info.stderr
    assert not marker.exists()


@pytest.mark.skipif(
    not SHARED_NTU.is_dir(), reason="needs ../shared/ntu/skeletons (real NTU files)"
)
def test_backbone_ntu_pickle_valid_and_corrupted_copy(tmp_path: Path) -> None:
    out = tmp_path / "ntu60_3d.pkl"
    built = skeleton_cli("ntu3d", str(SHARED_NTU), "--dataset", "ntu60", "--out", str(out))
    assert built.returncode == 0, built.stderr[-2000:]
    proc = skeleton_cli("validate", str(out))
    assert proc.returncode == 0, proc.stdout
    assert "valid: 3d combined pickle" in proc.stdout
    data = safeload.load(out)
    data["annotations"][0]["total_frames"] += 1
    data["annotations"][1]["keypoint"][0, 0, 0, 0] = np.nan
    data["annotations"][2]["label"] = -1
    data["split"]["xsub_val"].append("S017C003P020R002A060")
    bad = dump(data, tmp_path / "corrupted.pkl")
    proc = skeleton_cli("validate", str(bad))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 5 and "INVALID (4 problems)" in lines[-1]
    assert "NaN/inf" in proc.stdout and "label must be a non-negative int" in proc.stdout
