"""Sample names, missing lists, split protocols, the index, and the `skeleton ntu3d` command."""

from __future__ import annotations

import functools
import json
import pickle
import shutil
import zipfile

import numpy as np
import pytest
from conftest import REAL_SKELETONS, need_shared, run_skeleton

from skeleton.core.rejects import read_rejects
from skeleton.core.tables import shard_of
from skeleton.ntu.index import build_index
from skeleton.ntu.names import make_splits, missing_samples, parse_name


def test_names():
    s = parse_name("S018C002P045R001A106")
    assert (s.setup, s.camera, s.performer, s.replication, s.action) == (18, 2, 45, 1, 106)
    assert s.label == 105 and not s.in_ntu60 and s.n_actors == 2
    assert parse_name("S017C003P040R002A060").in_ntu60
    assert not parse_name("S017C003P040R002A061").in_ntu60
    for bad in ["S001C001P001R001A1", "s001c001p001r001a001", "S033C001P001R001A001",
                "S001C004P001R001A001", "S001C001P001R003A001", "S001C001P001R001A121",
                "S000C001P001R001A001", "S001C001P001R001A001_rgb"]:  # fmt: skip
        with pytest.raises(ValueError):
            parse_name(bad)


def test_official_missing_lists():
    m60, m120 = missing_samples("ntu60"), missing_samples("ntu120")
    assert len(m60) == 302 and len(m120) == 535 and m60 <= m120
    assert "S001C002P005R002A008" in m60


def test_split_protocols():
    names = ["S001C001P001R001A001", "S001C002P003R001A001", "S002C003P002R002A010",
             "S018C001P045R001A061", "S019C002P044R001A100"]  # fmt: skip
    s60 = make_splits(names[:3], "ntu60")
    assert s60 == {
        "xsub_train": ["S001C001P001R001A001", "S002C003P002R002A010"],
        "xsub_val": ["S001C002P003R001A001"],
        "xview_train": ["S001C002P003R001A001", "S002C003P002R002A010"],
        "xview_val": ["S001C001P001R001A001"],
    }
    s120 = make_splits(names, "ntu120")
    assert s120["xsub_train"] == [
        "S001C001P001R001A001",
        "S002C003P002R002A010",
        "S018C001P045R001A061",
    ]
    assert s120["xset_train"] == ["S002C003P002R002A010", "S018C001P045R001A061"]
    assert s120["xset_val"] == [
        "S001C001P001R001A001",
        "S001C002P003R001A001",
        "S019C002P044R001A100",
    ]


def test_index_shards_are_stable_and_sorted(synth_ntu):
    rows = build_index([str(synth_ntu / "ntu120"), str(synth_ntu / "ntu60")], shard_size=7)
    names = [r.sample for r in rows]
    assert names == sorted(names) and len(names) == 80
    # a hash bucket of the name alone, among ceil(114480 / 7) buckets
    assert [r.shard for r in rows] == [shard_of(n, 16355) for n in names]
    again = build_index([str(synth_ntu / "ntu60"), str(synth_ntu / "ntu120")], shard_size=7)
    assert again == rows  # input order does not matter
    alone = build_index([str(synth_ntu / "ntu60")], shard_size=7)
    assert {r.sample: r.shard for r in alone}.items() <= {r.sample: r.shard for r in rows}.items()


run = functools.partial(run_skeleton, check=True)  # `skeleton ARGS`; failing fails the test


def load(path):
    with open(path, "rb") as f:
        return pickle.load(f)


def test_ntu3d_rejects_with_distinct_reasons(tmp_path, synth_ntu):
    raw = tmp_path / "raw"
    shutil.copytree(synth_ntu / "ntu60", raw)
    good = sorted(raw.glob("*.skeleton"))
    listed = raw / "S001C002P005R002A008.skeleton"  # on the official missing list
    shutil.copy(good[0], listed)
    (raw / "S001C001P001R001A1.skeleton").write_text("1\n0\n")  # not an NTU name
    (raw / "notes.skeleton").write_text("")
    empty = raw / "S003C001P001R001A001.skeleton"
    empty.write_text("2\r\n0\r\n0\r\n")  # no body at all
    bad = raw / "S003C001P001R001A002.skeleton"
    bad.write_bytes(good[1].read_bytes()[:5000])  # truncated
    # the same sample in a second input: an identical copy is fine; a malformed copy (its CRLF
    # line ends doubled to CR CR LF: blank lines) is named and the good one used; two
    # well-formed copies that differ are a conflict, both named
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(good[2], other / good[2].name)
    (other / good[3].name).write_bytes(good[3].read_bytes().replace(b"\n", b"\r\n", 5))
    text4 = good[4].read_bytes()
    (other / good[4].name).write_bytes(text4.replace(b" 2\r\n", b" 1\r\n", 1))  # tracking
    out, rej = tmp_path / "out.pkl", tmp_path / "rejects.tsv"
    p = run(
        "ntu3d", raw, other, "--out", out, "--rejects", rej, "--dataset", "ntu60", "--jobs", "2"
    )
    assert "rejected" in p.stderr
    reasons = {r.sample: r.reason for r in read_rejects(rej)}
    assert reasons == {
        "S001C002P005R002A008": "missing_listed",
        "S001C001P001R001A1": "bad_name",
        "notes": "bad_name",
        "S003C001P001R001A001": "no_skeleton",
        "S003C001P001R001A002": "malformed",
        good[3].stem: "duplicate_malformed",
        good[4].stem: "duplicate_conflict",
    }
    details = {r.sample: r.detail for r in read_rejects(rej)}
    bad_copy = details[good[3].stem]
    assert bad_copy.startswith(f"{other / good[3].name}:2: body count line has 0 tokens")
    assert f"the sample is built from {raw / good[3].name}" in bad_copy
    assert str(other / good[4].name) in details[good[4].stem]
    assert str(raw / good[4].name) in details[good[4].stem]
    assert (
        f"{bad}:" in details["S003C001P001R001A002"]
        and "truncated" in details["S003C001P001R001A002"]
    )
    data = load(out)
    names = [a["frame_dir"] for a in data["annotations"]]
    assert len(names) == 40 - 1 and names == sorted(names)  # good[4] conflicting
    assert good[2].stem in names  # identical duplicate kept once
    assert good[3].stem in names  # built from its good copy
    for split in data["split"].values():
        assert set(split) <= set(names)
    assert sorted(data["split"]["xsub_train"] + data["split"]["xsub_val"]) == names
    # strict mode: same report, exit 1
    assert run("ntu3d", raw, "--out", tmp_path / "s.pkl", "--strict", check=False).returncode == 1


def test_ntu3d_datasets_zip_and_modes(tmp_path, synth_ntu):
    z = tmp_path / "nturgbd_skeletons_s018_to_s032.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted((synth_ntu / "ntu120").glob("*.skeleton")):
            zf.write(f, f"nturgb+d_skeletons/{f.name}")
    for ds, keys in [("ntu60", {"xsub_train", "xsub_val", "xview_train", "xview_val"}),
                     ("ntu120", {"xsub_train", "xsub_val", "xset_train", "xset_val"})]:  # fmt: skip
        out = tmp_path / f"{ds}.pkl"
        run("ntu3d", synth_ntu / "ntu60", z, "--out", out, "--dataset", ds)
        data = load(out)
        assert set(data["split"]) == keys
        for a in data["annotations"]:
            s = parse_name(a["frame_dir"])
            assert ds == "ntu120" or s.in_ntu60
            assert a["label"] == s.action - 1
            assert a["keypoint"].dtype == np.float16 and a["keypoint"].shape[1:] == (
                a["total_frames"],
                25,
                3,
            )
    n60, n120 = (
        len(load(tmp_path / "ntu60.pkl")["annotations"]),
        len(load(tmp_path / "ntu120.pkl")["annotations"]),
    )
    assert n60 < n120 == 80
    # without --dataset: everything, NTU120 protocol
    run("ntu3d", synth_ntu / "ntu60", z, "--out", tmp_path / "all.pkl", "--denoise", "energy")
    data = load(tmp_path / "all.pkl")
    assert len(data["annotations"]) == 80 and "xset_train" in data["split"]
    info = run("info", tmp_path / "all.pkl").stdout
    assert "annotations: 80" in info and "float16" in info and "xset_val" in info


def test_ntu3d_real_files_match_golden(tmp_path):
    need_shared()
    golden = np.load(REAL_SKELETONS.parent / "golden" / "real_samples.npz")
    out = tmp_path / "real.pkl"
    run("ntu3d", REAL_SKELETONS, "--out", out, "--dataset", "ntu60", "--jobs", "2")
    for a in load(out)["annotations"]:
        assert a["keypoint"].tobytes() == golden[f"pyskl/{a['frame_dir']}"].tobytes()


def test_ntu3d_nothing_usable(tmp_path):
    (tmp_path / "S001C001P001R001A001.skeleton").write_text("0\n")
    p = run("ntu3d", tmp_path, "--out", tmp_path / "o.pkl", check=False)
    assert p.returncode == 2 and "no usable" in p.stderr and not (tmp_path / "o.pkl").exists()
    p = run("ntu3d", tmp_path / "nope", "--out", tmp_path / "o.pkl", check=False)
    assert p.returncode == 2 and "no such file or folder" in p.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    p = run("ntu3d", empty, "--out", tmp_path / "o.pkl", check=False)
    assert p.returncode == 2 and "no .skeleton files" in p.stderr


def test_manifest(tmp_path, synth_ntu):
    out = tmp_path / "o.pkl"
    run(
        "ntu3d",
        synth_ntu / "ntu60",
        "--out",
        out,
        "--manifest",
        tmp_path / "m.json",
        "--dataset",
        "ntu60",
    )
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["counts"]["samples"] == 40 and m["versions"]["numpy"]
    assert m["inputs"][str(synth_ntu / "ntu60")]["files"] == 40
