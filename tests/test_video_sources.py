"""Every video source on one path: NTU's reader, config sections, pose options, rejects, packaging.

Test env only (numpy, OpenCV for tiny videos); pose shards are annotation pickles in the pose
stage's output format. A few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_skeleton

from skeleton.core.annotations import load, write_annotations
from skeleton.core.packaging import Report
from skeleton.core.rejects import NoUsableSamples, StrictModeError, read_rejects
from skeleton.core.validate import validate_file
from skeleton.datasets import ConfigError, datasets_of, source_of, split_order
from skeleton.datasets import sources as video_sources
from skeleton.datasets.index import video_index
from skeleton.datasets.package import compress, package_dense, rejects_2d

POSE = {
    "backend": "mmpose",
    "device": "cuda",
    "checkpoint": "default",
    "fp16": False,
    "batch_size": 16,
    "max_persons": 2,
    "in_flight": 1,
    "postproc": "mmaction2",
}


def annotation(name: str, frames: int = 4, persons: int = 1, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    score = rng.uniform(0.2, 1, (persons, frames, 17)).astype(np.float32)
    score[:, 0] = 0  # frame 0: nobody
    return {
        "frame_dir": name,
        "label": -1,
        "img_shape": (48, 64),
        "original_shape": (48, 64),
        "total_frames": frames,
        "keypoint": rng.uniform(0, 48, (persons, frames, 17, 2)).astype(np.float32),
        "keypoint_score": score,
    }


def ntu_videos(root: Path, names: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / f"{name}_rgb.avi").write_bytes(b"x")  # the index only lists them
    return root


def test_sources_and_their_datasets():
    assert datasets_of("ntu") == ("ntu60", "ntu120") and datasets_of("ucf101") == ("ucf101",)
    assert source_of("ntu60") == source_of("ntu120") == "ntu" and source_of("k400") == "k400"
    with pytest.raises(ValueError, match="unknown dataset"):
        source_of("ntu61")
    assert split_order("ntu60", {"xset_train"}) == [
        "xsub_train",
        "xsub_val",
        "xview_train",
        "xview_val",
    ]


def test_config_sections_to_index_settings(tmp_path):
    config = {
        "ntu": {"videos": ["/v/ntu"]},
        "gym": {"videos": "/v/gym", "annotations": "/a/gym", "subset": "gym288", "boxes": None},
        "custom": {"list": str(tmp_path / "l.csv"), "videos": [], "label_map": None},
        "ucf101": {"videos": [], "annotations": None},
    }
    assert [
        s for s in ("ntu", "gym", "custom", "ucf101") if video_sources.configured(s, config)
    ] == [
        "ntu",
        "gym",
        "custom",
    ]
    ntu = video_sources.settings("ntu", config)
    assert (ntu.annotations, ntu.videos, ntu.files) == (["/v/ntu"], [], ["/v/ntu"])
    gym = video_sources.settings("gym", config)
    assert gym.options == {"subset": "gym288"} and gym.boxes == "/a/gym/gym_gt_bboxes.pkl"
    assert gym.files == ["/a/gym", "/v/gym"]
    custom = video_sources.settings("custom", config)
    assert custom.videos == [str(tmp_path)] and custom.options == {}
    with pytest.raises(ConfigError, match=r"ucf101\.videos .* ucf101\.annotations"):
        video_sources.settings("ucf101", config)


def test_pose_options_assembled_in_one_place():
    args = video_sources.pose_arguments(POSE, "ucf101", None, "/m.yaml")
    assert args == [
        "--backend", "mmpose", "--checkpoint", "default", "--device", "cuda",
        "--models", "/m.yaml", "--batch-size", "16", "--max-persons", "2", "--in-flight", "1",
        "--dataset", "generic",
    ]  # fmt: skip
    ntu = video_sources.pose_arguments({**POSE, "postproc": "mmaction2"}, "ntu", None, None)
    assert ntu[-4:] == ["--dataset", "ntu", "--postproc", "mmaction2"]
    gym = video_sources.pose_arguments({**POSE, "postproc": "tracks"}, "gym", "/b.pkl", None)
    assert gym[-4:] == ["--dataset", "generic", "--boxes", "/b.pkl"]  # postproc is NTU's
    assert video_sources.pose_tag_arguments({**POSE, "fp16": True}, None)[-1] == "--fp16"


def test_ntu_reader_index_rejects_and_splits_of_both_datasets(tmp_path):
    good = ["S001C001P001R001A001", "S001C002P003R001A002", "S018C001P045R001A061"]
    videos = ntu_videos(tmp_path / "vid", [*good, "S001C001P001R001A003", "clip"])
    video_index("ntu", [str(videos)], [], 2, tmp_path / "videos.tsv", tmp_path / "arej.tsv")
    write_annotations(tmp_path / "shard_0.pkl", [annotation(n) for n in good[:2]], split=None)
    write_annotations(tmp_path / "shard_1.pkl", [annotation(good[2])], split=None)
    (tmp_path / "shard_1.rejects.tsv").write_text("sample\tsource\treason\tdetail\n")
    (tmp_path / "shard_0.rejects.tsv").write_text(
        "sample\tsource\treason\tdetail\n"
        "S001C001P001R001A003\tx_rgb.avi\tundecodable_video\tOpenCV cannot open it\n"
    )
    # the 3D pickle's splits: A002 has no usable skeleton, A004 has no video
    splits = {"xsub_train": ["S001C001P001R001A001", "S001C001P001R001A004"], "xsub_val": []}
    splits |= {"xview_train": [], "xview_val": ["S001C001P001R001A001", "S001C001P001R001A004"]}
    (tmp_path / "splits.json").write_text(json.dumps(splits))
    shard_rejects = [str(tmp_path / f"shard_{k}.rejects.tsv") for k in (0, 1)]
    rejects = rejects_2d(
        "ntu60", tmp_path / "videos.tsv", shard_rejects, tmp_path / "r60.tsv",
        tmp_path / "arej.tsv", tmp_path / "splits.json",
    )  # fmt: skip
    assert sorted((r.sample, r.reason) for r in rejects) == [
        ("S001C001P001R001A003", "undecodable_video"),
        ("S001C001P001R001A004", "no_video"),
        ("S001C002P003R001A002", "not_in_splits"),
        ("clip", "bad_name"),  # not an NTU name: concerns both datasets
    ]
    shards = [str(tmp_path / f"shard_{k}.pkl") for k in (0, 1)]
    counts = package_dense(
        tmp_path / "videos.tsv", shards, tmp_path / "ntu60_2d.pkl",
        Report("ntu60", "2d", tmp_path / "r60.tsv"), splits_json=tmp_path / "splits.json",
    )  # fmt: skip
    data = load(tmp_path / "ntu60_2d.pkl")
    assert [(a["frame_dir"], a["label"]) for a in data["annotations"]] == [(good[0], 0)]
    assert data["split"]["xsub_train"] == [good[0]] and counts["rejected"] == 4
    assert validate_file(tmp_path / "ntu60_2d.pkl").ok
    with pytest.raises(StrictModeError, match=r"4 sample\(s\) rejected.*r60\.tsv"):
        package_dense(
            tmp_path / "videos.tsv", shards, tmp_path / "strict.pkl",
            Report("ntu60", "2d", tmp_path / "r60.tsv"), strict=True,
            splits_json=tmp_path / "splits.json",
        )  # fmt: skip
    assert not (tmp_path / "strict.pkl").exists()
    # NTU120 without a fixed split file: the index's official splits of every NTU120 sample
    rejects_2d("ntu120", tmp_path / "videos.tsv", shard_rejects, tmp_path / "r120.tsv")
    package_dense(
        tmp_path / "videos.tsv", shards, tmp_path / "n120.pkl",
        Report("ntu120", "2d", tmp_path / "r120.tsv"),
    )  # fmt: skip
    split = load(tmp_path / "n120.pkl")["split"]
    assert list(split) == ["xsub_train", "xsub_val", "xset_train", "xset_val"]
    assert split["xsub_train"] == [good[0], good[2]] and split["xset_train"] == [good[2]]


def test_no_usable_sample_is_an_error_and_leaves_no_pickle(tmp_path):
    videos = ntu_videos(tmp_path / "vid", ["S001C001P001R001A001"])
    video_index("ntu", [str(videos)], [], 5, tmp_path / "videos.tsv", tmp_path / "arej.tsv")
    write_annotations(tmp_path / "shard_0.pkl", [], split=None)
    (tmp_path / "shard_0.rejects.tsv").write_text(
        "sample\tsource\treason\tdetail\nS001C001P001R001A001\tx\tempty_video\tno frame\n"
    )
    (tmp_path / "old.pkl").write_bytes(b"an earlier run's pickle")
    args = ["dataset-package", "ntu120", "--index", tmp_path / "videos.tsv"]
    args += ["--shards", tmp_path / "shard_0.pkl", "--out", tmp_path / "old.pkl"]
    p = run_skeleton(*args, "--rejects", tmp_path / "r.tsv")
    assert p.returncode == 1, p.stderr
    assert "no usable ntu120 sample among the inputs (1 rejected)" in p.stderr, p.stderr
    assert [r.reason for r in read_rejects(tmp_path / "r.tsv")] == ["empty_video"]
    assert not (tmp_path / "old.pkl").exists()
    with pytest.raises(NoUsableSamples):
        package_dense(
            tmp_path / "videos.tsv", [str(tmp_path / "shard_0.pkl")], tmp_path / "x.pkl",
            Report("ntu120", "2d", tmp_path / "r.tsv"),
        )  # fmt: skip


def test_k400_box_score_is_the_detectors_score():
    a = annotation("clip", frames=5, persons=2, seed=3)
    a["bbox"] = np.zeros((2, 5, 4), np.float32)
    a["bbox_score"] = np.arange(10, dtype=np.float32).reshape(2, 5) / 10
    entry, skeletons = compress(a)
    frames, persons = entry["frame_inds"], entry["person_inds"]
    np.testing.assert_array_equal(entry["box_score"], a["bbox_score"][persons, frames])
    assert entry["valid"][0.5] == len(set(frames[entry["box_score"] >= 0.5]))
    assert "bbox" not in entry and "bbox_score" not in entry  # per-frame arrays stay in shards
    old = {k: v for k, v in a.items() if not k.startswith("bbox")}  # a shard without boxes
    mean = compress(old)[0]["box_score"]
    np.testing.assert_allclose(mean, a["keypoint_score"][persons, frames].mean(-1), rtol=1e-6)


def test_every_source_is_one_module_one_schema_line_one_readme_row():
    """skeleton/datasets/__init__.py says how a dataset is added: these hold it to that."""
    import inspect

    import yaml

    from skeleton.datasets import ADAPTERS, ROOT_KEYS, VideoSource, video_source

    schema = yaml.safe_load((REPO / "config/schema/config.schema.yaml").read_text())
    sections = schema["properties"]
    shared = "#/$defs/video_source"
    readme = (REPO / "README.md").read_text()
    assert {k for k, v in sections.items() if v.get("$ref") == shared} <= set(ADAPTERS)
    for source in ADAPTERS:
        declared = video_source(source)
        assert declared.name == source and source in sections, source
        block = sections[source]
        if type(declared).settings is VideoSource.settings:  # videos + official files
            assert block.get("$ref") == shared and block.get("default") == {}, source
            assert block.get("unevaluatedProperties") is False, source
            read = inspect.signature(declared.read).parameters
            for option in block.get("properties", {}):  # the reader's own options
                assert option in ROOT_KEYS or option in read, (source, option)
        else:  # a section of its own (NTU's videos, custom's list)
            assert "$ref" not in block and block.get("additionalProperties") is False, source
        if source != "ntu":  # NTU's are the NTU targets, with the 3D pickles
            for dataset in declared.datasets:
                assert f"| `{dataset}` |" in readme, f"README.md: no row of {dataset}"
