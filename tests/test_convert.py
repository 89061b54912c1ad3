"""`skeleton convert split|merge|babel` on pickles and a BABEL-format fixture written here."""

from __future__ import annotations

import argparse
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from skeleton.commands import convert as convert_cmd
from skeleton.core import safeload
from skeleton.core.validate import validate_data, validate_file
from skeleton.release.convert import ConvertError, babel_to_mmaction, merge_pickles, split_pickle


def run_convert(*argv: str) -> int:
    from skeleton.cli import UsageError

    parser = argparse.ArgumentParser(prog="skeleton")
    convert_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["convert", *argv])
    try:
        return args.func(args)
    except UsageError:
        return 2


def ann(name: str, label: int = 0, frames: int = 8) -> dict:
    kp = np.random.default_rng(frames + label).normal(size=(1, frames, 25, 3)).astype(np.float16)
    return {"frame_dir": name, "label": label, "keypoint": kp, "total_frames": frames}


NAMES = [f"S001C00{c}P00{p}R001A001" for p in (1, 3) for c in (1, 2)]


def combined_file(path: Path) -> Path:
    data = {
        "split": {"xsub_train": [NAMES[1], NAMES[0]], "xsub_val": [NAMES[2], NAMES[3]]},
        "annotations": [ann(n, i) for i, n in enumerate(NAMES)],
    }
    path.write_bytes(pickle.dumps(data))
    return path


def test_split_writes_plain_lists_in_annotation_order(tmp_path: Path) -> None:
    src = combined_file(tmp_path / "ntu60_3d.pkl")
    written = split_pickle(src, tmp_path / "out", prefix="ntu60")
    assert sorted(p.name for p in written.values()) == [
        "ntu60_xsub_train.pkl",
        "ntu60_xsub_val.pkl",
    ]
    train = safeload.load(tmp_path / "out" / "ntu60_xsub_train.pkl")
    assert isinstance(train, list)
    assert [a["frame_dir"] for a in train] == [NAMES[0], NAMES[1]]
    want = ann(NAMES[1], 1)["keypoint"]
    assert train[1]["keypoint"].dtype == np.float16 and np.array_equal(train[1]["keypoint"], want)
    assert validate_file(tmp_path / "out" / "ntu60_xsub_val.pkl").ok
    assert run_convert("split", str(src), str(tmp_path / "cli")) == 0
    assert (tmp_path / "cli" / "ntu60_3d_xsub_train.pkl").exists()


def test_split_refuses_dangling_split_entry(tmp_path: Path) -> None:
    data = {"split": {"a": ["nope"]}, "annotations": [ann("x")]}
    (tmp_path / "in.pkl").write_bytes(pickle.dumps(data))
    with pytest.raises(ConvertError, match="split 'a': 1 entries not in annotations"):
        split_pickle(tmp_path / "in.pkl", tmp_path / "out")
    assert run_convert("split", str(tmp_path / "in.pkl"), str(tmp_path / "out")) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_merge_lists_with_split_json(tmp_path: Path) -> None:
    (tmp_path / "a.pkl").write_bytes(pickle.dumps([ann(NAMES[0]), ann(NAMES[1], 1)]))
    (tmp_path / "b.pkl").write_bytes(pickle.dumps([ann(NAMES[2], 2)]))
    splits = {"train": NAMES[:2], "val": NAMES[2:3]}
    (tmp_path / "splits.json").write_text(json.dumps(splits))
    out = tmp_path / "merged.pkl"
    assert merge_pickles(out, [tmp_path / "a.pkl", tmp_path / "b.pkl"], splits) == 3
    data = safeload.load(out)
    assert data["split"] == splits
    assert [a["frame_dir"] for a in data["annotations"]] == NAMES[:3]
    assert validate_data(data).ok
    out2 = tmp_path / "merged2.pkl"
    argv = ["merge", str(out2), str(tmp_path / "a.pkl"), str(tmp_path / "b.pkl")]
    assert run_convert(*argv, "--split-json", str(tmp_path / "splits.json")) == 0
    assert out2.read_bytes() == out.read_bytes()


def test_merge_combined_inputs_and_errors(tmp_path: Path) -> None:
    src = combined_file(tmp_path / "all.pkl")
    split_pickle(src, tmp_path, prefix="p")
    out = tmp_path / "back.pkl"
    # Per-split lists plus the split file back into one combined pickle.
    (tmp_path / "s.json").write_text(json.dumps({"split": safeload.load(src)["split"]}))
    argv = ["merge", str(out), str(tmp_path / "p_xsub_train.pkl"), str(tmp_path / "p_xsub_val.pkl")]
    assert run_convert(*argv, "--split-json", str(tmp_path / "s.json")) == 0
    assert validate_file(out).ok
    # Combined inputs carry their own split.
    assert merge_pickles(tmp_path / "again.pkl", [src]) == 4
    with pytest.raises(ConvertError, match="already came from"):
        merge_pickles(tmp_path / "dup.pkl", [src, tmp_path / "p_xsub_val.pkl"])
    with pytest.raises(ConvertError, match="no split"):
        merge_pickles(tmp_path / "x.pkl", [tmp_path / "p_xsub_val.pkl"])
    with pytest.raises(ConvertError, match="not in the annotations"):
        merge_pickles(tmp_path / "x.pkl", [tmp_path / "p_xsub_val.pkl"], {"a": ["zzz"]})
    assert not (tmp_path / "dup.pkl").exists() and not (tmp_path / "x.pkl").exists()


def test_convert_refuses_unsafe_input(tmp_path: Path) -> None:
    marker = tmp_path / "marker"

    class Evil:
        def __reduce__(self):  # noqa: ANN204
            return (os.system, (f"touch {marker}",))

    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"split": {}, "annotations": [Evil()]}))
    assert run_convert("split", str(tmp_path / "evil.pkl"), str(tmp_path / "o")) == 2
    assert run_convert("merge", str(tmp_path / "m.pkl"), str(tmp_path / "evil.pkl")) == 2
    assert not marker.exists() and not (tmp_path / "m.pkl").exists()


# --- BABEL ----------------------------------------------------------------------------------


def write_babel_fixture(
    folder: Path, split: str, n: int, seed: int, n_classes: int = 60
) -> np.ndarray:
    """A tiny BABEL release split: `<split>_ntu_sk_<n>.npy` + `<split>_label_<n>.pkl`.

    Same layout as BABEL's create_dataset.py writes: data N x C x T x V x M float32 with zero
    padding after each chunk's length; labels `(seg_id, (Y1, sid, chunk_n, anntr_id))` where
    sid / chunk_n / anntr_id are numpy values taken out of np.array (as the release does).
    """
    rng = np.random.default_rng(seed)
    t = 16
    x = rng.normal(size=(n, 3, t, 25, 1)).astype(np.float32)
    x[:, :, t - 3 :] = 0  # short last chunk, zero padded
    np.save(folder / f"{split}_ntu_sk_{n_classes}.npy", x)
    seg_ids = [f"{seed:04d}abcd-0000-4000-8000-{i:012d}" for i in range(n)]
    seg_ids[1] = seg_ids[0]  # one segment with two action categories -> two samples
    y1 = [int(v) for v in rng.integers(0, n_classes, n)]
    sid = np.array([7000 + i // 2 for i in range(n)])
    chunk_n = np.array([0] * n)
    anntr = np.array([f"annotator{i // 2}" for i in range(n)])
    labels = (
        list(np.array(seg_ids)),
        (y1, [sid[i] for i in range(n)], [chunk_n[i] for i in range(n)], list(anntr)),
    )
    with open(folder / f"{split}_label_{n_classes}.pkl", "wb") as fh:
        pickle.dump(labels, fh)
    return x


def test_babel_to_mmaction(tmp_path: Path) -> None:
    train = write_babel_fixture(tmp_path, "train", 5, seed=1)
    val = write_babel_fixture(tmp_path, "val", 3, seed=2)
    out = tmp_path / "babel60.pkl"
    data_files = [str(tmp_path / "train_ntu_sk_60.npy"), str(tmp_path / "val_ntu_sk_60.npy")]
    assert run_convert("babel", str(out), *data_files) == 0
    data = safeload.load(out)
    report = validate_data(data)
    assert report.ok, report.problems
    assert report.kind == "3d" and report.splits == {"train": 5, "val": 3}
    anns = data["annotations"]
    with open(tmp_path / "train_label_60.pkl", "rb") as fh:
        seg_ids, (y1, sid, chunk_n, anntr) = pickle.load(fh)
    first = anns[0]
    assert first["frame_dir"] == f"{seg_ids[0]}_{sid[0]}_{chunk_n[0]}_{anntr[0]}"
    assert anns[1]["frame_dir"] == f"{seg_ids[1]}_{sid[1]}_{chunk_n[1]}_{anntr[1]}_l{y1[1]}"
    assert first["keypoint"].shape == (1, 16, 25, 3) and first["keypoint"].dtype == np.float16
    assert first["total_frames"] == 16
    assert [a["label"] for a in anns[:5]] == y1 and type(first["label"]) is int
    for i in range(5):
        want = train[i].transpose(3, 1, 2, 0).astype(np.float16)
        assert np.array_equal(anns[i]["keypoint"], want)
    assert np.array_equal(anns[5]["keypoint"], val[0].transpose(3, 1, 2, 0).astype(np.float16))
    assert data["split"]["val"] == [a["frame_dir"] for a in anns[5:]]
    # split -> MMAction2's babel60_train.pkl / babel60_val.pkl
    split_pickle(out, tmp_path / "mma", prefix="babel60")
    assert len(safeload.load(tmp_path / "mma" / "babel60_train.pkl")) == 5


def test_babel_bad_samples_rejected_not_fatal(tmp_path: Path) -> None:
    write_babel_fixture(tmp_path, "train", 5, seed=4)
    data = tmp_path / "train_ntu_sk_60.npy"
    x = np.load(data)
    x[2, 0, 3, 7, 0] = np.nan
    x[4, 1, 0, 0, 0] = 1e6  # beyond float16
    np.save(data, x)
    labels_path = tmp_path / "train_label_60.pkl"
    seg_ids, (y1, sid, chunk_n, anntr) = pickle.loads(labels_path.read_bytes())
    y1[3] = -1
    labels_path.write_bytes(pickle.dumps((seg_ids, (y1, sid, chunk_n, anntr))))
    out, rejects = tmp_path / "b.pkl", tmp_path / "rejects.tsv"
    assert run_convert("babel", str(out), str(data), "--rejects", str(rejects)) == 0
    result = safeload.load(out)
    assert validate_data(result).ok
    kept = [a["frame_dir"] for a in result["annotations"]]
    assert len(kept) == 2 and result["split"] == {"train": kept}
    rows = [line.split("\t") for line in rejects.read_text().splitlines()]
    assert rows[0] == ["sample", "source", "reason", "detail"]
    assert sorted(r[2] for r in rows[1:]) == ["bad_label", "non_finite", "non_finite"]
    assert any(r[1] == f"{data}[3]" and "negative" in r[3] for r in rows[1:])


def test_babel_explicit_labels_and_errors(tmp_path: Path) -> None:
    write_babel_fixture(tmp_path, "train", 4, seed=3, n_classes=120)
    renamed = tmp_path / "my_data.npy"
    (tmp_path / "train_ntu_sk_120.npy").rename(renamed)
    counts = babel_to_mmaction(tmp_path / "o.pkl", [renamed], [tmp_path / "train_label_120.pkl"])
    assert counts == {"my_data": 4}
    with pytest.raises(ConvertError, match="not a BABEL"):
        babel_to_mmaction(tmp_path / "o2.pkl", [renamed])
    np.save(tmp_path / "bad_ntu_sk_120.npy", np.zeros((3, 3, 4, 25)))
    with pytest.raises(ConvertError, match="N x C x T x V x M"):
        babel_to_mmaction(tmp_path / "o3.pkl", [tmp_path / "bad_ntu_sk_120.npy"])
    np.save(tmp_path / "short_ntu_sk_120.npy", np.zeros((2, 3, 4, 25, 1)))
    with pytest.raises(ConvertError, match="4 seg_id entries for 2 samples"):
        babel_to_mmaction(
            tmp_path / "o4.pkl",
            [tmp_path / "short_ntu_sk_120.npy"],
            [tmp_path / "train_label_120.pkl"],
        )
    assert not any(p.name.startswith("o") and p.name != "o.pkl" for p in tmp_path.iterdir())


# --- bounds, long names, and outputs that `skeleton validate` accepts -------------------------


def _one_line_error(capsys) -> str:  # noqa: ANN001
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_split_bounds_what_it_writes(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    # one big annotation listed in 300 splits: 300 copies of it
    big = ann(NAMES[0], frames=2000)
    data = {"split": {f"s{k}": [NAMES[0]] for k in range(300)}, "annotations": [big]}
    src = tmp_path / "in.pkl"
    src.write_bytes(pickle.dumps(data))
    with pytest.raises(ConvertError, match=r"300 splits would write about .* --max-output-ratio"):
        split_pickle(src, tmp_path / "out")
    assert run_convert("split", str(src), str(tmp_path / "out")) == 1
    assert "more than --max-output-ratio 10 allows" in _one_line_error(capsys)
    assert not (tmp_path / "out").exists()
    # a real layout (each sample in two of four splits) is far below the default
    data = {
        "split": {"xsub_train": NAMES[:2], "xsub_val": NAMES[2:], "xview_train": NAMES[::2],
                  "xview_val": NAMES[1::2]},
        "annotations": [ann(n, i, frames=3000) for i, n in enumerate(NAMES)],
    }  # fmt: skip
    src.write_bytes(pickle.dumps(data))
    assert len(split_pickle(src, tmp_path / "real")) == 4
    # the bound is an option
    assert run_convert("split", str(src), str(tmp_path / "r2"), "--max-output-ratio", "0.5") == 1
    assert "more than --max-output-ratio 0.5 allows" in _one_line_error(capsys)
    with pytest.raises(SystemExit):
        run_convert("split", str(src), str(tmp_path / "r3"), "--max-output-ratio", "-1")


def test_split_names_too_long_for_a_file_are_one_line(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    src = tmp_path / "in.pkl"
    for length in (241, 250, 255):  # valid split names; '<prefix>_<name>.pkl' and its
        name = "s" * length  # temporary '.<that>.XXXXXXXX.tmp' are not valid file names
        data = {"split": {name: [NAMES[0]]}, "annotations": [ann(NAMES[0])]}
        src.write_bytes(pickle.dumps(data))
        assert validate_file(src).ok
        assert run_convert("split", str(src), str(tmp_path / "out"), "--prefix", "p") == 1
        assert "temporary file" in _one_line_error(capsys) or length > 241
        assert not (tmp_path / "out").exists()
    name = "s" * 235  # 'p_<235>.pkl' is 241 bytes: fits with its temporary name
    src.write_bytes(pickle.dumps({"split": {name: [NAMES[0]]}, "annotations": [ann(NAMES[0])]}))
    assert run_convert("split", str(src), str(tmp_path / "out"), "--prefix", "p") == 0
    assert validate_file(tmp_path / "out" / f"p_{name}.pkl").ok


def test_merge_deeply_nested_split_json_is_one_line(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    (tmp_path / "a.pkl").write_bytes(pickle.dumps([ann(NAMES[0])]))
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    argv = ["merge", str(tmp_path / "m.pkl"), str(tmp_path / "a.pkl")]
    assert run_convert(*argv, "--split-json", str(tmp_path / "deep.json")) == 1
    assert "nested too deeply" in _one_line_error(capsys)
    # a folder or an unwritable output: one line too
    assert run_convert("merge", str(tmp_path), str(tmp_path / "a.pkl"), "--split-json",
                       str(tmp_path / "deep.json")) == 1  # fmt: skip
    _one_line_error(capsys)
    (tmp_path / "s.json").write_text(json.dumps({"train": [NAMES[0]]}))
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    assert run_convert("merge", str(out_dir), str(tmp_path / "a.pkl"), "--split-json",
                       str(tmp_path / "s.json")) == 1  # fmt: skip
    assert str(out_dir) in _one_line_error(capsys)


def test_merge_refuses_what_validate_would_reject(tmp_path: Path) -> None:
    (tmp_path / "a.pkl").write_bytes(pickle.dumps([ann(NAMES[0])]))
    two_d = {"frame_dir": NAMES[1], "label": 0, "total_frames": 8, "img_shape": (480, 640),
             "keypoint": np.zeros((1, 8, 17, 2), np.float16),
             "keypoint_score": np.ones((1, 8, 17), np.float16)}  # fmt: skip
    (tmp_path / "b.pkl").write_bytes(pickle.dumps([two_d]))
    inputs = [tmp_path / "a.pkl", tmp_path / "b.pkl"]
    with pytest.raises(ConvertError, match="would not be a valid annotation pickle: .*mix"):
        merge_pickles(tmp_path / "m.pkl", inputs, {"all": NAMES[:2]})
    for split, why in [({"../x": [NAMES[0]]}, "path separator"),
                       ({"tr\x1bain": [NAMES[0]]}, "control"),
                       ({"a": [NAMES[0], NAMES[0]]}, "duplicate")]:  # fmt: skip
        with pytest.raises(ConvertError, match=why):
            merge_pickles(tmp_path / "m.pkl", inputs[:1], split)
    assert not (tmp_path / "m.pkl").exists()


def _babel(folder: Path, split: str, x: np.ndarray, seg_ids: list | None = None,
           labels: list | None = None, classes: int = 60) -> Path:  # fmt: skip
    """A BABEL data file holding `x` and its label pickle."""
    n = x.shape[0]
    data = folder / f"{split}_ntu_sk_{classes}.npy"
    np.save(data, x)
    seg_ids = seg_ids if seg_ids is not None else [f"seg{i}" for i in range(n)]
    labels = labels if labels is not None else [i % classes for i in range(n)]
    fields = (labels, list(range(n)), [0] * n, ["a"] * n)
    (folder / f"{split}_label_{classes}.pkl").write_bytes(pickle.dumps((seg_ids, fields)))
    return data


def test_babel_refuses_inputs_that_make_invalid_pickles(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    ok = np.ones((2, 3, 4, 25, 1), np.float32)
    refused = {
        "t0": (np.zeros((2, 3, 0, 25, 1), np.float32), "no frame, joint or person"),
        "v0": (np.zeros((2, 3, 4, 0, 1), np.float32), "no frame, joint or person"),
        "m0": (np.zeros((2, 3, 4, 25, 0), np.float32), "no frame, joint or person"),
        "huge": (np.zeros((2**20, 3, 0, 25, 1), np.float32), "no frame, joint or person"),
        "complex": (ok.astype(np.complex64), "holds no real numbers"),
        "datetime": (ok.astype("datetime64[s]"), "holds no real numbers"),
        "timedelta": (ok.astype("timedelta64[s]"), "holds no real numbers"),
        "bool": (ok.astype(bool), "holds no real numbers"),
        "record": (np.zeros((2, 3, 4, 25, 1), [("a", "f4"), ("b", "f4")]), "holds no real"),
        "text": (ok.astype("U3"), "holds no real numbers"),
    }
    for split, (x, why) in refused.items():
        data = _babel(tmp_path, split, x)
        out = tmp_path / f"{split}.pkl"
        with pytest.raises(ConvertError, match=why):
            babel_to_mmaction(out, [data])
        assert run_convert("babel", str(out), str(data)) == 1
        assert why in _one_line_error(capsys)
        assert not out.exists()
    # every file of one pickle needs the same joints; a split name from a file name is checked
    a = _babel(tmp_path, "train", ok)
    b = _babel(tmp_path, "val", np.ones((2, 3, 4, 17, 1), np.float32), seg_ids=["v0", "v1"])
    with pytest.raises(ConvertError, match="17 joints"):
        babel_to_mmaction(tmp_path / "o.pkl", [a, b])
    bad = _babel(tmp_path, "tr\x1bain", ok, seg_ids=["z0", "z1"])
    with pytest.raises(ConvertError, match="split name .* control"):
        babel_to_mmaction(tmp_path / "o.pkl", [bad])


def test_babel_bad_names_and_labels_are_rejects(tmp_path: Path) -> None:
    x = np.ones((5, 3, 4, 25, 1), np.float32)
    seg_ids = ["ok0", "bad\nname", "", "ok3", "ok4\x1b[2J"]  # '' still gets '_<sid>_...'
    data = _babel(tmp_path, "train", x, seg_ids=seg_ids)
    out, rejects = tmp_path / "o.pkl", tmp_path / "r.tsv"
    babel_to_mmaction(out, [data], rejects_path=rejects)
    assert validate_file(out).ok
    rows = [r.split("\t") for r in rejects.read_text().splitlines()[1:]]
    assert [(r[0], r[2]) for r in rows] == [(f"{data}[1]", "bad_name"), (f"{data}[4]", "bad_name")]
    # label 60 of a 60-class file
    data = _babel(tmp_path, "val", x, labels=[0, 1, 2, 60, 5])
    babel_to_mmaction(out, [data], rejects_path=rejects)
    rows = [r.split("\t") for r in rejects.read_text().splitlines()[1:]]
    assert [r[2] for r in rows] == ["bad_label"] and "60 classes" in rows[0][3]


def test_every_pickle_convert_writes_passes_validate(tmp_path: Path) -> None:
    """split, merge and babel over ordinary and edge inputs: whatever they write validates."""
    outputs: list[Path] = []
    src = combined_file(tmp_path / "all.pkl")
    outputs += split_pickle(src, tmp_path / "split").values()
    empty = {"split": {"none": [], "one": [NAMES[0]]}, "annotations": [ann(NAMES[0])]}
    (tmp_path / "empty.pkl").write_bytes(pickle.dumps(empty))
    outputs += split_pickle(tmp_path / "empty.pkl", tmp_path / "split2").values()
    outputs.append(tmp_path / "m1.pkl")
    merge_pickles(outputs[-1], [src])
    outputs.append(tmp_path / "m2.pkl")
    merge_pickles(outputs[-1], [tmp_path / "split" / "all_xsub_val.pkl"], {"v": NAMES[2:]})
    x = np.random.default_rng(0).normal(size=(4, 3, 6, 25, 2)) * 100
    x[1] *= 1e4  # beyond float16
    for k, dtype in enumerate((np.float64, np.float32, np.int16, np.uint8, ">f4")):
        folder = tmp_path / f"babel_{k}"
        folder.mkdir()
        data = _babel(folder, "train", x.astype(dtype), seg_ids=["a", "a", "b\tc", "d"])
        outputs.append(folder / "o.pkl")
        babel_to_mmaction(outputs[-1], [data])
    for path in outputs:
        report = validate_file(path)
        assert report.ok, (path, report.problems)


def test_hostile_inputs_under_a_memory_cap(tmp_path: Path) -> None:
    """The cases above as `skeleton convert` commands in forked children under a 3 GB
    address-space cap and a 60 s alarm (tests/pickle_readers.py): exit 1 or 2, one line."""
    import subprocess
    import sys

    tests = Path(__file__).resolve().parent
    big = ann(NAMES[0], frames=20000)  # 3 MB
    bomb = {"split": {f"s{k}": [NAMES[0]] for k in range(300)}, "annotations": [big]}
    (tmp_path / "bomb.pkl").write_bytes(pickle.dumps(bomb))
    long_split = {"split": {"s" * 250: [NAMES[0]]}, "annotations": [ann(NAMES[0])]}
    (tmp_path / "long.pkl").write_bytes(pickle.dumps(long_split))
    (tmp_path / "deep.json").write_text("{" + '"a":{' * 200_000 + "}" * 200_001)
    _babel(tmp_path, "huge", np.zeros((2**20, 3, 0, 25, 1), np.float32))
    _babel(tmp_path, "cplx", np.ones((2, 3, 4, 25, 1), np.complex64))
    out = tmp_path / "out"
    cases = {
        "split-bomb": ["convert", "split", str(tmp_path / "bomb.pkl"), str(out)],
        "split-long": ["convert", "split", str(tmp_path / "long.pkl"), str(out)],
        "merge-deep": ["convert", "merge", str(out / "m.pkl"), str(tmp_path / "long.pkl"),
                       "--split-json", str(tmp_path / "deep.json")],
        "babel-huge": ["convert", "babel", str(out / "b.pkl"),
                       str(tmp_path / "huge_ntu_sk_60.npy")],
        "babel-complex": ["convert", "babel", str(out / "c.pkl"),
                          str(tmp_path / "cplx_ntu_sk_60.npy")],
    }  # fmt: skip
    spec = [{"argv": a, "cwd": str(tmp_path), "out": str(tmp_path / n)} for n, a in cases.items()]
    (tmp_path / "cases.json").write_text(json.dumps(spec))
    subprocess.run(
        [sys.executable, str(tests / "pickle_readers.py"), tmp_path / "cases.json",
         tmp_path / "res.json"],
        check=True, timeout=600, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"),
    )  # fmt: skip
    results = json.loads((tmp_path / "res.json").read_text())
    for name, result in zip(cases, results, strict=True):
        err = (tmp_path / f"{name}.err").read_text()
        assert result["signal"] is None and result["exit"] in (1, 2), (name, result, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (name, err)
    assert not out.exists() or list(out.iterdir()) == []
