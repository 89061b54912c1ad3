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
