"""Video datasets from their official files: UCF101, HMDB51, Diving48, FineGYM, Kinetics-400, custom.

The fixtures are written here in the official formats (CRLF class lists, HMDB51's trailing
spaces, Diving48's JSON, FineGYM element ids, Kinetics' quoted CSV) with tiny OpenCV videos.
Parsing, indexing and packaging run in the test env (numpy, no torch); pose shards for the
packaging tests are annotation pickles in the pose stage's output format. The tests marked
`pose` run the real yolo backend (`skeleton pose`, with `--boxes` for FineGYM, and the Snakemake
targets) in the pose interpreter on short copies of the real clips in ../shared/video, and skip
when either is absent.
"""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import (
    DEMO_VIDEO,
    NTU_VIDEO,
    cut_clip,
    need_shared,
    run_skeleton,
    run_snakemake,
    write_grey_video,
)
from video_lists import HMDB51_FOLDER, without_filler, write_hmdb51_splits

from skeleton.core.annotations import load, write_annotations
from skeleton.core.packaging import Report
from skeleton.core.rejects import StrictModeError, failures, read_rejects
from skeleton.core.tables import shard_of
from skeleton.core.validate import validate_file
from skeleton.datasets import AnnotationError, label_map, read_dataset
from skeleton.datasets.finegym import boxes_for, compact_id, load_boxes
from skeleton.datasets.index import build_index, read_index, video_index
from skeleton.datasets.package import (
    BOX_THRESHOLDS,
    compress,
    compress_shard,
    dense_video,
    index_names,
    package_compressed,
    package_dense,
    rejects_2d,
    to_dense,
)

cv2 = pytest.importorskip("cv2")


def write_video(path: Path) -> Path:
    """Three grey 64 x 48 frames."""
    return write_grey_video(path, 3, (64, 48), 20)


def crlf(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode())
    return path


# ---- official files ------------------------------------------------------------------------

UCF_CLASSES = ["ApplyEyeMakeup", "Archery", "HandstandPushups"]
# split k: (train lines, test lines); the HandstandPushups folder holds v_HandStandPushups_* files
UCF_SPLITS = {
    "1": (
        [
            "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1",
            "Archery/v_Archery_g08_c02.avi 2",
            "HandstandPushups/v_HandStandPushups_g08_c01.avi 3",
        ],
        ["ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi", "Archery/v_Archery_g01_c01.avi"],
    ),
    "2": (
        ["ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1", "Archery/v_Archery_g01_c01.avi 2"],
        [
            "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi",
            "Archery/v_Archery_g08_c02.avi",
            "HandstandPushups/v_HandStandPushups_g08_c01.avi",
        ],
    ),
    "3": (
        ["Archery/v_Archery_g08_c02.avi 2", "HandstandPushups/v_HandStandPushups_g08_c01.avi 3"],
        ["ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"],
    ),
}


def write_ucf101(root: Path) -> Path:
    ann = root / "ucfTrainTestlist"
    crlf(ann / "classInd.txt", [f"{i + 1} {c}" for i, c in enumerate(UCF_CLASSES)])
    for k, (train, test) in UCF_SPLITS.items():
        crlf(ann / f"trainlist0{k}.txt", train)
        crlf(ann / f"testlist0{k}.txt", test)
    return ann


def stems(lines: list[str]) -> list[str]:
    return sorted(line.split()[0].split("/")[1].removesuffix(".avi") for line in lines)


def write_hmdb51(root: Path) -> Path:
    roles = {  # video -> ids in splits 1, 2, 3 (1 train, 2 test, 0 unused)
        "wave": {
            "Wave_hello_wave_u_cm_np1_fr_med_0.avi": "120",
            "Wave_bye_wave_f_nm_np1_le_goo_1.avi": "212",
        },
        "brush_hair": {
            "April_09_brush_hair_u_nm_np1_ba_goo_0.avi": "111",
            "Aussie_brush_hair_f_cm_np1_fr_bad_2.avi": "220",
        },
    }
    write_hmdb51_splits(root / HMDB51_FOLDER, roles)
    return root


def write_diving48(root: Path) -> Path:
    ann = root / "annotations"
    ann.mkdir(parents=True)
    train = [
        {"vid_name": "_8Vy3dlHg2w_00000", "label": 12, "start_frame": 0, "end_frame": 84},
        {"vid_name": "_8Vy3dlHg2w_00001", "label": 47, "start_frame": 0, "end_frame": 60},
    ]
    test = [
        {"vid_name": "-mmq0PT-u8k_00155", "label": 0, "start_frame": 0, "end_frame": 76},
        {"vid_name": "bad_label_clip", "label": 48, "start_frame": 0, "end_frame": 10},
    ]
    (ann / "Diving48_V2_train.json").write_text(json.dumps(train))
    (ann / "Diving48_V2_test.json").write_text(json.dumps(test))
    return ann


GYM_TRAIN = [
    "0LtLS9wROrk_E_002407_002435_A_0003_0005 7",
    "A0xAXXysHUo_E_002184_002237_A_0035_0036 98",
]
GYM_VAL = ["0LtLS9wROrk_E_002407_002435_A_0010_0012 7"]


def write_gym(root: Path) -> Path:
    ann = root / "gym"
    ann.mkdir(parents=True)
    (ann / "gym99_train_element_v1.1.txt").write_text("\n".join(GYM_TRAIN) + "\n")
    (ann / "gym99_val_element.txt").write_text("\n".join(GYM_VAL) + "\n")
    return ann


def write_k400(root: Path) -> Path:
    ann = root / "k400"
    ann.mkdir(parents=True)
    (ann / "train.csv").write_text(
        "label,youtube_id,time_start,time_end,split,is_cc\n"
        "abseiling,---QUuC4vJs,3,13,train,0\n"
        '"passing American football (in game)",--6bJUbfpnQ,17,27,train,0\n'
        "not a class,--aaaaaaaaa,0,10,train,0\n"
    )
    (ann / "validate.csv").write_text(
        "label,youtube_id,time_start,time_end,split\nair drumming,--nQbRBEz2s,104,114,val\n"
    )
    return ann


# ---- parsing (test env) --------------------------------------------------------------------


def test_ucf101_splits_labels_and_quirk(tmp_path):
    table = read_dataset("ucf101", write_ucf101(tmp_path))
    split = table.split()
    assert list(split) == ["train1", "test1", "train2", "test2", "train3", "test3"]
    for k, (train, test) in UCF_SPLITS.items():
        assert split[f"train{k}"] == stems(train) and split[f"test{k}"] == stems(test)
    labels = {name: s.label for name, s in table.samples.items()}
    assert labels == {
        "v_ApplyEyeMakeup_g01_c01": 0,
        "v_ApplyEyeMakeup_g08_c01": 0,
        "v_Archery_g01_c01": 1,
        "v_Archery_g08_c02": 1,
        "v_HandStandPushups_g08_c01": 2,
    }
    assert table.classes == UCF_CLASSES and not table.rejects


def test_ucf101_bad_index_and_missing_file(tmp_path):
    ann = write_ucf101(tmp_path)
    crlf(ann / "trainlist01.txt", ["Archery/v_Archery_g08_c02.avi 3", "Nope/v_Nope_g01_c01.avi 9"])
    table = read_dataset("ucf101", ann)
    assert sorted((r.sample, r.reason) for r in table.rejects) == [
        ("v_Archery_g08_c02", "label_conflict"),
        ("v_Nope_g01_c01", "unknown_label"),
    ]
    assert table.rejects[0].source.endswith("trainlist01.txt:1")
    (ann / "testlist03.txt").unlink()
    with pytest.raises(AnnotationError, match="testlist03.txt"):
        read_dataset("ucf101", ann)


def test_hmdb51_roles_and_sorted_labels(tmp_path):
    table = read_dataset("hmdb51", write_hmdb51(tmp_path))
    assert table.classes == label_map("hmdb51") and len(table.classes) == 51
    split = without_filler(table.split())
    assert split == {
        "train1": ["April_09_brush_hair_u_nm_np1_ba_goo_0", "Wave_hello_wave_u_cm_np1_fr_med_0"],
        "test1": ["Aussie_brush_hair_f_cm_np1_fr_bad_2", "Wave_bye_wave_f_nm_np1_le_goo_1"],
        "train2": ["April_09_brush_hair_u_nm_np1_ba_goo_0", "Wave_bye_wave_f_nm_np1_le_goo_1"],
        "test2": ["Aussie_brush_hair_f_cm_np1_fr_bad_2", "Wave_hello_wave_u_cm_np1_fr_med_0"],
        "train3": ["April_09_brush_hair_u_nm_np1_ba_goo_0"],
        "test3": ["Wave_bye_wave_f_nm_np1_le_goo_1"],
    }
    assert table.samples["Wave_hello_wave_u_cm_np1_fr_med_0"].label == 50
    assert table.samples["Aussie_brush_hair_f_cm_np1_fr_bad_2"].label == 0
    assert label_map("hmdb51")[:2] == ["brush_hair", "cartwheel"]  # shipped map is sorted too


def test_diving48_json(tmp_path):
    table = read_dataset("diving48", write_diving48(tmp_path))
    assert table.split() == {
        "train": ["_8Vy3dlHg2w_00000", "_8Vy3dlHg2w_00001"],
        "test": ["-mmq0PT-u8k_00155"],
    }
    assert table.samples["_8Vy3dlHg2w_00001"].label == 47 and len(table.classes) == 48
    assert [(r.sample, r.reason) for r in table.rejects] == [("bad_label_clip", "unknown_label")]


def test_gym_element_lists_and_ids(tmp_path):
    table = read_dataset("gym", write_gym(tmp_path))
    assert table.split() == {
        "train": [
            "0LtLS9wROrk_002407_002435_0003_0005",
            "A0xAXXysHUo_002184_002237_0035_0036",
        ],
        "val": ["0LtLS9wROrk_002407_002435_0010_0012"],
    }
    assert table.samples["A0xAXXysHUo_002184_002237_0035_0036"].label == 98
    assert (
        compact_id("A0xAXXysHUo_E_002184_002237_A_0035_0036")
        == "A0xAXXysHUo_002184_002237_0035_0036"
    )
    with pytest.raises(ValueError, match="subset"):
        read_dataset("gym", tmp_path / "gym", subset="gym100")
    # an older list beside v1.1 that differs: which one is a choice, never taken silently
    (tmp_path / "gym" / "gym99_train_element.txt").write_text(GYM_TRAIN[0] + "\n")
    with pytest.raises(AnnotationError, match="several gym99 train lists that differ"):
        read_dataset("gym", tmp_path / "gym")
    table = read_dataset("gym", tmp_path / "gym", list_version="v1.1")
    assert len(table.split()["train"]) == 2


def test_gym_box_file_layouts(tmp_path):
    nan = np.nan
    data = {
        # (T, 4) one box per frame; a NaN row and a zero-area row mean no box
        "0LtLS9wROrk_E_002407_002435_A_0003_0005": np.array(
            [[1, 2, 30, 40], [nan, nan, nan, nan], [5, 5, 5, 9]], np.float32
        ),
        # compact key, per-frame lists with scores, inside a dict
        "A0xAXXysHUo_002184_002237_0035_0036": {
            "bbox": [np.array([[0, 0, 10, 10, 0.9]]), None, []]
        },
    }
    path = tmp_path / "gym_gt_bboxes.pkl"
    path.write_bytes(pickle.dumps(data, protocol=4))
    boxes = load_boxes(path)
    a = boxes_for(boxes, "0LtLS9wROrk_E_002407_002435_A_0003_0005")
    assert [len(f) for f in a] == [1, 0, 0] and a[0].tolist() == [[1, 2, 30, 40, 1.0]]
    b = boxes_for(boxes, "A0xAXXysHUo_E_002184_002237_A_0035_0036")  # found by its compact id
    assert [len(f) for f in b] == [1, 0, 0] and b[0][0, 4] == pytest.approx(0.9)
    assert boxes_for(boxes, "zzz_E_000001_000002_A_0001_0002") is None


def test_k400_csv(tmp_path):
    table = read_dataset("k400", write_k400(tmp_path))
    classes = label_map("k400")
    assert table.split() == {
        "train": ["---QUuC4vJs_000003_000013", "--6bJUbfpnQ_000017_000027"],
        "val": ["--nQbRBEz2s_000104_000114"],
    }
    football = table.samples["--6bJUbfpnQ_000017_000027"]
    assert football.label == classes.index("passing American football (in game)")
    assert football.names == ("--6bJUbfpnQ",)
    assert [(r.reason, r.source.rsplit(":", 1)[1]) for r in table.rejects] == [
        ("unknown_label", "4")
    ]


def test_custom_csv_names_splits_and_label_map(tmp_path):
    write_video(tmp_path / "clips" / "jump_01.mp4")
    write_video(tmp_path / "elsewhere" / "wave 02.avi")
    lst = tmp_path / "list.csv"
    lst.write_text(
        "video,label,split\n"
        "clips/jump_01.mp4,jump,train\n"
        f"{tmp_path / 'elsewhere' / 'wave 02.avi'},wave,val\n"
        "sit_03.mp4,sit,train\n"
        "clips/gone.mp4,jump,val\n"
    )
    rows = video_index(
        "custom",
        lst,
        [str(tmp_path / "clips")],
        10,
        tmp_path / "i.tsv",
        tmp_path / "r.tsv",
        tmp_path / "label_map.txt",
    )
    assert (tmp_path / "label_map.txt").read_text().split("\n")[:3] == ["jump", "sit", "wave"]
    got = {r.sample: (r.label, r.splits, r.status) for r in rows}
    assert got == {
        "jump_01": (0, "train", "ok"),
        "wave 02": (2, "val", "ok"),
        "sit_03": (1, "train", "missing_video"),
        "gone": (0, "val", "missing_video"),
    }
    # TSV with int labels and no split column; a given label map fixes names
    tsv = tmp_path / "list.tsv"
    tsv.write_text("clips/jump_01.mp4\t1\nsit_03.mp4\t0\n")
    table = read_dataset("custom", tsv)
    assert {n: s.label for n, s in table.samples.items()} == {"jump_01": 1, "sit_03": 0}
    assert table.split() == {"all": ["jump_01", "sit_03"]} and table.classes == ["0", "1"]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("a.mp4,jump\nb.mp4,3\n")
    with pytest.raises(AnnotationError, match="label_map"):
        read_dataset("custom", mixed)
    names = tmp_path / "names.txt"
    names.write_text("sit\njump\nwave\nrun\n")
    table = read_dataset("custom", mixed, label_map=names)
    assert {n: s.label for n, s in table.samples.items()} == {"a": 1, "b": 3}


def test_a_video_no_list_names_is_left_out_and_reported(tmp_path):
    """A video under the folders that no list line names (a clip of another release, a line
    forgotten) is not posed and not dropped without a word: a `not_listed` row, counted as
    left out (not a failure, as strict mode sees it)."""
    ann = write_ucf101(tmp_path)
    vids = tmp_path / "UCF-101"
    write_video(vids / "Archery" / "v_Archery_g08_c02.avi")
    write_video(vids / "Extra" / "v_Extra_g01_c01.avi")
    out = tmp_path / "index.tsv"
    video_index("ucf101", ann, [str(vids)], 2, out, tmp_path / "index.rejects.tsv")
    assert [r.sample for r in read_index(out) if r.status == "ok"] == ["v_Archery_g08_c02"]
    reported = rejects_2d("ucf101", out, [], tmp_path / "r2d.tsv", tmp_path / "index.rejects.tsv")
    [extra] = [r for r in reported if r.reason == "not_listed"]
    assert (extra.sample, Path(extra.source).name) == ("v_Extra_g01_c01", "v_Extra_g01_c01.avi")
    assert failures(reported) == [r for r in reported if r.reason == "missing_video"]


def test_custom_list_one_name_two_videos_and_split_overlap(tmp_path):
    """Two listed videos with one base name are one frame_dir: the first listed is kept, the
    other is a `duplicate` reject naming it (never dropped without a word); one video in two
    splits stays in both, and the index log says so."""
    lst = tmp_path / "list.csv"
    lst.write_text(
        "video,label,split\n"
        "a/clip.mp4,jump,train\n"
        "b/clip.mp4,jump,train\n"
        "./a/clip.mp4,jump,train\n"  # the same file again: one sample, no reject
        "a/x.mp4,sit,train\n"
        "a/x.mp4,sit,val\n"
    )
    table = read_dataset("custom", lst)
    assert table.samples["clip"].path == str(tmp_path / "a" / "clip.mp4")
    assert table.samples["x"].splits == ["train", "val"]
    [reject] = table.rejects
    assert (reject.sample, reject.source, reject.reason) == ("clip", f"{lst}:3", "duplicate")
    assert f"{lst}:2" in reject.detail and "a/clip.mp4" in reject.detail
    assert any("more than one split, e.g. x (train, val)" in n for n in table.notes)


def test_index_finds_videos_recursively_and_shards(tmp_path):
    ann = write_ucf101(tmp_path)
    vids = tmp_path / "UCF-101"
    for name in ("v_ApplyEyeMakeup_g01_c01", "v_Archery_g08_c02", "v_HandStandPushups_g08_c01"):
        write_video(vids / name.split("_")[1] / f"{name}.avi")
    write_video(vids / "other" / "v_Archery_g08_c02.avi")  # same name twice: first path used
    (vids / "notes.txt").write_text("not a video")
    rows = build_index(read_dataset("ucf101", ann), [vids], shard_size=2)
    ok = [(r.sample, r.shard) for r in rows if r.status == "ok"]
    names = ["v_ApplyEyeMakeup_g01_c01", "v_Archery_g08_c02", "v_HandStandPushups_g08_c01"]
    # hash buckets: ceil(1,024 / 2) of them (5 listed samples, rounded up to a power of two, at
    # least 1,024); missing videos have none
    assert ok == [(n, shard_of(n, 512)) for n in names]
    archery = next(r for r in rows if r.sample == "v_Archery_g08_c02")
    assert archery.path.endswith("Archery/v_Archery_g08_c02.avi") and "1 more" in archery.detail
    missing = sorted(r.sample for r in rows if r.status == "missing_video")
    assert missing == ["v_ApplyEyeMakeup_g08_c01", "v_Archery_g01_c01"]


def test_a_line_added_to_an_official_list_moves_no_other_video(tmp_path):
    """One video and its list line added (a fixture, a corrected list): every other video keeps
    its pose shard, so one pose job reruns (the bucket count rounds the listed samples up)."""
    ann = write_ucf101(tmp_path)
    vids = tmp_path / "UCF-101"
    for name in ("v_ApplyEyeMakeup_g01_c01", "v_Archery_g08_c02", "v_HandStandPushups_g08_c01"):
        write_video(vids / name.split("_")[1] / f"{name}.avi")
    before = {r.sample: r.shard for r in build_index(read_dataset("ucf101", ann), [vids], 1)}
    with open(ann / "trainlist01.txt", "a", newline="") as f:
        f.write("Archery/v_Archery_g09_c01.avi 2\r\n")
    write_video(vids / "Archery" / "v_Archery_g09_c01.avi")
    rows = build_index(read_dataset("ucf101", ann), [vids], 1)
    after = {r.sample: r.shard for r in rows}
    assert after.keys() - before.keys() == {"v_Archery_g09_c01"}
    assert {k: after[k] for k in before} == before


def test_k400_video_found_by_youtube_id(tmp_path):
    ann = write_k400(tmp_path)
    write_video(tmp_path / "v" / "abseiling" / "---QUuC4vJs.mp4")
    write_video(tmp_path / "v" / "--6bJUbfpnQ_000017_000027.mp4")
    rows = build_index(read_dataset("k400", ann), [tmp_path / "v"], shard_size=5)
    assert [(r.sample, r.status) for r in rows] == [
        ("---QUuC4vJs_000003_000013", "ok"),
        ("--6bJUbfpnQ_000017_000027", "ok"),
        ("--nQbRBEz2s_000104_000114", "missing_video"),
    ]


# ---- packaging (test env; pose shards in the pose stage's format) --------------------------


def pose_annotation(name: str, frames: int, persons: int, seed: int) -> dict:
    """A 2D annotation as `skeleton pose` writes it; persons absent in some frames stay zero."""
    rng = np.random.default_rng(seed)
    kp = rng.uniform(0, 300, (persons, frames, 17, 2)).astype(np.float32)
    sc = rng.uniform(0.05, 1.0, (persons, frames, 17)).astype(np.float32)
    sc[0, 1] = 0  # person 0 missing in frame 1
    if persons > 1:
        sc[1, : frames // 2] = 0  # person 1 enters half way
    kp[sc.sum(-1) == 0] = 0
    return {
        "frame_dir": name,
        "label": -1,
        "img_shape": (240, 320),
        "original_shape": (240, 320),
        "total_frames": frames,
        "keypoint": kp,
        "keypoint_score": sc,
    }


def test_dense_package_labels_splits_and_rejects(tmp_path):
    ann = write_ucf101(tmp_path)
    vids = tmp_path / "v"
    for name in ("v_ApplyEyeMakeup_g01_c01", "v_Archery_g08_c02", "v_HandStandPushups_g08_c01"):
        write_video(vids / f"{name}.avi")
    video_index("ucf101", ann, [str(vids)], 2, tmp_path / "videos.tsv", tmp_path / "arej.tsv")
    rows = read_index(tmp_path / "videos.tsv")
    write_annotations(
        tmp_path / "shard_0.pkl",
        [
            pose_annotation("v_Archery_g08_c02", 5, 2, 1),
            pose_annotation("v_ApplyEyeMakeup_g01_c01", 4, 1, 2),
        ],
    )
    write_annotations(tmp_path / "shard_1.pkl", [])
    (tmp_path / "shard_1.rejects.tsv").write_text(
        "sample\tsource\treason\tdetail\nv_HandStandPushups_g08_c01\tx.avi\tundecodable_video\tOpenCV cannot open it\n"
    )
    rejects_2d(
        "ucf101",
        tmp_path / "videos.tsv",
        [str(tmp_path / "shard_1.rejects.tsv")],
        tmp_path / "rejects.tsv",
        tmp_path / "arej.tsv",
    )
    counts = package_dense(
        tmp_path / "videos.tsv",
        [str(tmp_path / "shard_1.pkl"), str(tmp_path / "shard_0.pkl")],
        tmp_path / "ucf101_2d.pkl",
        Report("ucf101", "2d", tmp_path / "rejects.tsv"),
    )
    data = load(tmp_path / "ucf101_2d.pkl")
    assert [a["frame_dir"] for a in data["annotations"]] == [
        "v_ApplyEyeMakeup_g01_c01",
        "v_Archery_g08_c02",
    ]
    assert [a["label"] for a in data["annotations"]] == [0, 1]
    assert data["split"] == {
        "train1": ["v_Archery_g08_c02"],
        "test1": ["v_ApplyEyeMakeup_g01_c01"],
        "train2": ["v_ApplyEyeMakeup_g01_c01"],
        "test2": ["v_Archery_g08_c02"],
        "train3": ["v_Archery_g08_c02"],
        "test3": ["v_ApplyEyeMakeup_g01_c01"],
    }
    assert sorted((r.sample, r.reason) for r in read_rejects(tmp_path / "rejects.tsv")) == [
        ("v_ApplyEyeMakeup_g08_c01", "missing_video"),
        ("v_Archery_g01_c01", "missing_video"),
        ("v_HandStandPushups_g08_c01", "undecodable_video"),
    ]
    assert counts["samples"] == 2 and validate_file(tmp_path / "ucf101_2d.pkl").ok
    assert {r.sample for r in rows if r.status == "ok"} >= {
        a["frame_dir"] for a in data["annotations"]
    }
    rejects_2d("ucf101", tmp_path / "videos.tsv", [], tmp_path / "strict.tsv")
    with pytest.raises(StrictModeError, match="2 sample"):  # config strict: the report first
        package_dense(
            tmp_path / "videos.tsv", [str(tmp_path / "shard_0.pkl")], tmp_path / "strict.pkl",
            Report("ucf101", "2d", tmp_path / "strict.tsv"), strict=True,
        )  # fmt: skip
    assert len(read_rejects(tmp_path / "strict.tsv")) == 2  # shard_1's reject not given here


def test_compress_round_trip_exact():
    a = pose_annotation("clip", 6, 2, 3)
    entry, skeletons = compress(a)
    n = int((a["keypoint_score"].sum(-1) > 0).sum())
    assert skeletons.shape == (n, 17, 3) and entry["frame_inds"].shape == (n,)
    assert np.all(np.diff(entry["frame_inds"]) >= 0)  # frame-major
    assert set(entry["valid"]) == set(BOX_THRESHOLDS)
    assert all(0 <= v <= 6 for v in entry["valid"].values())
    back = to_dense(entry, skeletons)
    np.testing.assert_array_equal(back["keypoint"], a["keypoint"])
    np.testing.assert_array_equal(back["keypoint_score"], a["keypoint_score"])
    # a reader without person_inds (MMAction2's DecompressPose) fills persons in stored order
    plain = to_dense({k: v for k, v in entry.items() if k != "person_inds"}, skeletons)
    both = (a["keypoint_score"].sum(-1) > 0).all(axis=0)  # frames where every slot is present
    assert both.any()
    np.testing.assert_array_equal(plain["keypoint"][:, both], a["keypoint"][:, both])


def test_k400_compressed_layout_and_cli_round_trip(tmp_path):
    ann = write_k400(tmp_path)
    names = ["---QUuC4vJs_000003_000013", "--6bJUbfpnQ_000017_000027", "--nQbRBEz2s_000104_000114"]
    for name in names:
        write_video(tmp_path / "v" / f"{name}.mp4")
    video_index(
        "k400", ann, [str(tmp_path / "v")], 2, tmp_path / "videos.tsv", tmp_path / "arej.tsv"
    )
    dense = {n: pose_annotation(n, 4 + i, 1 + i % 2, 10 + i) for i, n in enumerate(names)}
    out = tmp_path / "results" / "k400"
    write_annotations(tmp_path / "shard_0.pkl", [dense[n] for n in names[:2]])
    write_annotations(tmp_path / "shard_1.pkl", [dense[names[2]]])
    tocs = []
    for k in (0, 1):
        toc = out / "toc" / f"shard_{k}.pkl"
        compress_shard(
            index_names(tmp_path / "videos.tsv"),
            tmp_path / f"shard_{k}.pkl",
            out / "kpfiles" / f"shard_{k}.pkl",
            toc,
            f"kpfiles/shard_{k}.pkl",
        )
        tocs.append(str(toc))
    rejects_2d("k400", tmp_path / "videos.tsv", [], out / "rejects.tsv", tmp_path / "arej.tsv")
    package_compressed(
        tmp_path / "videos.tsv", tocs, out / "k400_2d.pkl",
        Report("k400", "2d-compressed", out / "rejects.tsv"),
    )  # fmt: skip
    data = load(out / "k400_2d.pkl")
    assert data["split"] == {"train": names[:2], "val": names[2:]}
    classes = label_map("k400")
    for a in data["annotations"]:
        assert "keypoint" not in a and a["raw_file"].startswith("kpfiles/shard_")
        assert a["label"] == read_dataset("k400", ann).samples[a["frame_dir"]].label
        kpfile = load(out / a["raw_file"])  # {frame_dir: {'keypoint': (N, 17, 3)}}
        sk = kpfile[a["frame_dir"]]["keypoint"]
        assert (
            sk.shape == (len(a["frame_inds"]), 17, 3)
            and a["box_score"].shape == a["frame_inds"].shape
        )
        d = dense[a["frame_dir"]]
        for i, (t, m) in enumerate(zip(a["frame_inds"], a["person_inds"], strict=True)):
            np.testing.assert_array_equal(sk[i, :, :2], d["keypoint"][m, t])
            np.testing.assert_array_equal(sk[i, :, 2], d["keypoint_score"][m, t])
    assert classes[data["annotations"][1]["label"]] == "passing American football (in game)"
    report = validate_file(out / "k400_2d.pkl")
    assert report.ok and report.kind == "2d-compressed", report.problems
    # back to the dense form for one video: library and CLI
    back = dense_video(out / "k400_2d.pkl", names[1])
    np.testing.assert_array_equal(back["keypoint"], dense[names[1]]["keypoint"])
    args = ["k400-dense", out / "k400_2d.pkl", "--out", tmp_path / "one.pkl"]
    run_skeleton(*args, "--", names[2], check=True)  # YouTube ids may start with '-'
    (one,) = load(tmp_path / "one.pkl")
    np.testing.assert_array_equal(one["keypoint_score"], dense[names[2]]["keypoint_score"])
    assert one["label"] == classes.index("air drumming") and validate_file(tmp_path / "one.pkl").ok
    # MMAction2's layout, one kpfile per video (PoseDataset data_prefix=dict(skeleton=...)):
    # the same arrays; the CLI replaces the folder whole
    per_video = out / "video_kpfiles"
    per_video.mkdir()
    (per_video / "stale.pkl").write_bytes(b"old")
    kpfiles = sorted(out.glob("kpfiles/*.pkl"))
    run_skeleton("k400-video-kpfiles", *kpfiles, "--out", per_video, check=True)
    assert sorted(p.name for p in per_video.iterdir()) == [f"{n}.pkl" for n in names]
    for a in data["annotations"]:
        (one_video,) = load(per_video / f"{a['frame_dir']}.pkl").items()
        expected = load(out / a["raw_file"])[a["frame_dir"]]["keypoint"]
        assert one_video[0] == "keypoint"
        np.testing.assert_array_equal(one_video[1], expected)


def test_cli_index_and_package(tmp_path):
    ann = write_diving48(tmp_path)
    write_video(tmp_path / "rgb" / "_8Vy3dlHg2w_00000.mp4")
    p = run_skeleton(
        "dataset-index", "diving48", "--annotations", ann, "--videos", tmp_path / "rgb",
        "--out", tmp_path / "videos.tsv", "--label-map-out", tmp_path / "lm.txt",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "lm.txt").read_text().splitlines() == label_map("diving48")
    write_annotations(tmp_path / "shard_0.pkl", [pose_annotation("_8Vy3dlHg2w_00000", 3, 1, 0)])
    p = run_skeleton(
        "dataset-package", "diving48", "--index", tmp_path / "videos.tsv",
        "--shards", tmp_path / "shard_0.pkl", "--out", tmp_path / "d.pkl",
        "--rejects", tmp_path / "rej.tsv", "--annotation-rejects", tmp_path / "videos.rejects.tsv",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    data = load(tmp_path / "d.pkl")
    assert data["split"] == {"train": ["_8Vy3dlHg2w_00000"], "test": []}
    assert data["annotations"][0]["label"] == 12
    reasons = sorted(r.reason for r in read_rejects(tmp_path / "rej.tsv"))
    assert reasons == ["missing_video", "missing_video", "unknown_label"]
    p = run_skeleton(
        "dataset-package", "diving48", "--index", tmp_path / "videos.tsv",
        "--shards", tmp_path / "shard_0.pkl", "--out", tmp_path / "c" / "d.pkl",
        "--rejects", tmp_path / "c" / "rej.tsv", "--compressed",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert validate_file(tmp_path / "c" / "d.pkl").kind == "2d-compressed"
    assert (tmp_path / "c" / "kpfiles" / "shard_0.pkl").is_file()
    back = dense_video(tmp_path / "c" / "d.pkl", "_8Vy3dlHg2w_00000")
    np.testing.assert_array_equal(back["keypoint"], data["annotations"][0]["keypoint"])
    p = run_skeleton(
        "dataset-index", "ucf101", "--annotations", tmp_path, "--out", tmp_path / "x.tsv"
    )
    assert p.returncode == 2 and "classInd.txt" in p.stderr


# ---- pose environment: real yolo backend, real Snakemake ----------------------------------


@pytest.fixture(scope="module")
def real_clips(tmp_path_factory) -> dict[str, Path]:
    need_shared(NTU_VIDEO)
    need_shared(DEMO_VIDEO)
    root = tmp_path_factory.mktemp("clips")
    return {
        "one": cut_clip(NTU_VIDEO, root / "one.avi"),
        "two": cut_clip(DEMO_VIDEO, root / "two.mp4"),
    }


@pytest.mark.pose
def test_gym_pose_inside_ground_truth_boxes(tmp_path, pose_py, real_clips):
    src = real_clips["one"]
    video = tmp_path / "0LtLS9wROrk_E_002407_002435_A_0003_0005.avi"
    video.write_bytes(src.read_bytes())
    h, w = cv2.VideoCapture(str(video)).read()[1].shape[:2]
    frames = 6
    boxes = np.tile(np.array([[0, 0, w, h]], np.float32), (frames, 1))
    boxes[2] = np.nan  # no box in frame 2
    box_file = tmp_path / "gym_gt_bboxes.pkl"  # keyed by the compact id, as PYSKL names samples
    box_file.write_bytes(pickle.dumps({compact_id(video.stem): boxes[:5]}))  # frame 5: no entry
    other = write_video(tmp_path / "noboxes_E_000001_000002_A_0001_0002.avi")
    out = tmp_path / "gym.pkl"
    p = run_skeleton(
        "pose", video, other, "--boxes", box_file, "--backend", "yolo", "--out", out,
        "--batch-size", "4", "--max-persons", "1",  # the athlete
        python=pose_py, timeout=900,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    (a,) = load(out)
    assert a["frame_dir"] == video.stem and a["total_frames"] == frames
    assert a["keypoint"].shape == (1, frames, 17, 2)
    present = a["keypoint_score"][0].sum(-1) > 0
    assert not present[2] and not present[5] and present[[0, 1, 3, 4]].all()
    rejects = read_rejects(tmp_path / "gym.rejects.tsv")
    assert [(r.sample, r.reason) for r in rejects] == [(other.stem, "no_boxes")]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return run_snakemake(workdir, *args, configfile="config.yaml")


@pytest.mark.pose
def test_workflow_ucf101_custom_k400_gym(tmp_path, pose_py, real_clips):
    ann = write_ucf101(tmp_path)
    vids = tmp_path / "UCF-101"
    (vids / "Archery").mkdir(parents=True)
    (vids / "Archery" / "v_Archery_g08_c02.avi").write_bytes(real_clips["one"].read_bytes())
    (vids / "v_ApplyEyeMakeup_g01_c01.avi").write_bytes(b"not a video at all")
    k400 = write_k400(tmp_path)
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "--nQbRBEz2s_000104_000114.mp4").write_bytes(real_clips["two"].read_bytes())
    (tmp_path / "k" / "---QUuC4vJs.avi").write_bytes(real_clips["one"].read_bytes())
    (tmp_path / "list.tsv").write_text(f"video\tlabel\n{real_clips['two']}\twave\n")
    gym = write_gym(tmp_path)  # one element clip, its boxes in the default gym_gt_bboxes.pkl
    element = "A0xAXXysHUo_E_002184_002237_A_0035_0036"
    (tmp_path / "g" / "subactions").mkdir(parents=True)
    (tmp_path / "g" / "subactions" / f"{element}.avi").write_bytes(real_clips["one"].read_bytes())
    h, w = cv2.VideoCapture(str(real_clips["one"])).read()[1].shape[:2]
    whole = np.tile(np.array([[0, 0, w, h, 1]], np.float32), (6, 1))
    (gym / "gym_gt_bboxes.pkl").write_bytes(pickle.dumps({compact_id(element): whole}))
    config = {
        "ntu": {"skeletons": []},
        "pose": {
            "backend": "yolo",
            "device": "cpu",
            "python": pose_py,
            "batch_size": 8,
            "shard_size": 1,
        },
        "ucf101": {"videos": str(vids), "annotations": str(ann)},
        "k400": {"videos": [str(tmp_path / "k")], "annotations": str(k400)},
        "custom": {"list": str(tmp_path / "list.tsv")},
        "gym": {"videos": str(tmp_path / "g"), "annotations": str(gym)},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(tmp_path, "--cores", "2", "ucf101", "custom", "k400", "gym")

    ucf = load(tmp_path / "results/ucf101/ucf101_2d.pkl")
    (a,) = ucf["annotations"]
    assert a["frame_dir"] == "v_Archery_g08_c02" and a["label"] == 1 and a["total_frames"] == 6
    assert a["keypoint_score"].max() > 0.3  # the real person was found
    assert ucf["split"]["train1"] == ["v_Archery_g08_c02"] and ucf["split"]["test1"] == []
    reasons = {r.sample: r.reason for r in read_rejects(tmp_path / "results/ucf101/rejects_2d.tsv")}
    assert reasons["v_ApplyEyeMakeup_g01_c01"] == "undecodable_video"
    assert reasons["v_HandStandPushups_g08_c01"] == "missing_video"

    custom = load(tmp_path / "results/custom/custom_2d.pkl")
    assert custom["split"] == {"all": ["two"]} and custom["annotations"][0]["label"] == 0
    assert (tmp_path / "results/custom/label_map.txt").read_text() == "wave\n"
    assert max(a["keypoint"].shape[0] for a in custom["annotations"]) == 2  # two people

    g = load(tmp_path / "results/gym/gym_2d.pkl")
    assert g["split"] == {"train": [compact_id(element)], "val": []}
    (a,) = g["annotations"]
    assert a["label"] == 98 and (a["keypoint_score"][0].sum(-1) > 0).all()
    missing = {r.sample for r in read_rejects(tmp_path / "results/gym/rejects_2d.tsv")}
    assert missing == {compact_id(line.split()[0]) for line in GYM_TRAIN + GYM_VAL} - {
        compact_id(element)
    }

    k = load(tmp_path / "results/k400/k400_2d.pkl")
    assert k["split"] == {
        "train": ["---QUuC4vJs_000003_000013"],
        "val": ["--nQbRBEz2s_000104_000114"],
    }
    assert validate_file(tmp_path / "results/k400/k400_2d.pkl").kind == "2d-compressed"
    # one kpfile per pose shard holding a video: the two videos' hash buckets
    index = read_index(tmp_path / "results/k400/videos.tsv")
    shard_of_video = {r.sample: r.shard for r in index if r.status == "ok"}
    assert sorted(p.name for p in (tmp_path / "results/k400/kpfiles").iterdir()) == sorted(
        f"shard_{k}.pkl" for k in set(shard_of_video.values())
    )
    back = dense_video(tmp_path / "results/k400/k400_2d.pkl", "---QUuC4vJs_000003_000013")
    (tag,) = [p.name for p in (tmp_path / "results/pose").iterdir()]
    k = shard_of_video["---QUuC4vJs_000003_000013"]
    shard = load(tmp_path / "results/pose" / tag / f"k400/shard_{k}.pkl")
    np.testing.assert_array_equal(back["keypoint"], shard[0]["keypoint"])
    # nothing changed: nothing to do
    p = snakemake(tmp_path, "-n", "ucf101", "custom", "k400", "gym")
    assert "Nothing to be done" in p.stdout + p.stderr


def test_ntu_named_video_in_a_custom_list(tmp_path):
    """The pose stage names NTU-named videos without `_rgb`; packaging maps them back."""
    write_video(tmp_path / "S001C001P001R001A001_rgb.avi")
    (tmp_path / "list.csv").write_text("S001C001P001R001A001_rgb.avi,drink\n")
    video_index(
        "custom", tmp_path / "list.csv", [str(tmp_path)], 5, tmp_path / "i.tsv", tmp_path / "a.tsv"
    )
    write_annotations(tmp_path / "shard_0.pkl", [pose_annotation("S001C001P001R001A001", 3, 1, 5)])
    rejects_2d("custom", tmp_path / "i.tsv", [], tmp_path / "r.tsv")
    package_dense(
        tmp_path / "i.tsv",
        [str(tmp_path / "shard_0.pkl")],
        tmp_path / "c.pkl",
        Report("custom", "2d", tmp_path / "r.tsv"),
    )
    data = load(tmp_path / "c.pkl")
    assert [a["frame_dir"] for a in data["annotations"]] == ["S001C001P001R001A001_rgb"]
    assert data["split"] == {"all": ["S001C001P001R001A001_rgb"]}
