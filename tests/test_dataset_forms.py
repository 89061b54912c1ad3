"""Every distributed form of the official annotation files, through `skeleton dataset-index`.

The fixtures are written here as each source distributes them: Kinetics-400's CSVs under
DeepMind's, the CVDF mirror's and MMAction2's names; FineGYM element lists with clips named as
MMAction2's trim_subaction.py names them and in the compact form, mixed in one folder; the
ground-truth box file in the accepted layouts and in wrong ones; a Diving48 JSON with a UTF-8
BOM; UCF101's CRLF lists and HMDB51's split folder; a custom list with dots in the names. Each
index must find every video, carry the labels and splits of the lists and name every sample as
the released pickles do. Test env only (numpy, OpenCV for the tiny videos); about 10 s.
"""

from __future__ import annotations

import json
import pickle
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import run_skeleton, write_grey_video
from video_lists import HMDB51_CLASSES, HMDB51_FOLDER, hmdb51_filler, write_hmdb51_splits

from skeleton.core.logs import log_to
from skeleton.core.rejects import read_rejects
from skeleton.core.videos import video_stem
from skeleton.datasets import AnnotationError, label_map, read_dataset
from skeleton.datasets.finegym import (
    BoxLayoutError,
    boxes_for,
    compact_id,
    element_id,
    load_boxes,
)
from skeleton.datasets.index import read_index, video_index

cv2 = pytest.importorskip("cv2")

K400 = label_map("k400")


def dataset_index(
    tmp_path: Path, dataset: str, annotations: Path, *videos: Path, extra: tuple[str, ...] = ()
) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / f"{dataset}_videos.tsv"
    args = ["dataset-index", dataset, "--annotations", annotations, "--videos", *videos]
    return run_skeleton(*args, "--out", out, *extra, timeout=120), out


def rows_of(out: Path) -> dict[str, tuple[int, str, str, str]]:
    """sample -> (label, splits, status, video file name)."""
    return {r.sample: (r.label, r.splits, r.status, Path(r.path).name) for r in read_index(out)}


# ---- Kinetics-400 ------------------------------------------------------------------------

# (class, youtube id, start, end) of the train and validation lists
K400_TRAIN = [
    ("abseiling", "---QUuC4vJs", 3, 13),
    ("passing American football (in game)", "--6bJUbfpnQ", 17, 27),
    ("air drumming", "-0AS8SlPKMk", 0, 10),
]
K400_VAL = [("air drumming", "--nQbRBEz2s", 104, 114), ("abseiling", "0347ZoDXyP0", 30, 40)]


def k400_csv(rows, split: str, is_cc: bool) -> str:
    head = "label,youtube_id,time_start,time_end,split" + (",is_cc" if is_cc else "")
    lines = [head]
    for cls, yid, start, end in rows:
        label = f'"{cls}"' if any(c in cls for c in ",( ") else cls
        lines.append(f"{label},{yid},{start},{end},{split}" + (",0" if is_cc else ""))
    return "\n".join(lines) + "\n"


def clip(yid: str, start: int, end: int) -> str:
    return f"{yid}_{start:06d}_{end:06d}"


def write_k400_videos(root: Path) -> Path:
    """CVDF-style clip names in class folders, plus one clip saved as `<youtube id>.mp4`."""
    videos = root / "kinetics400"
    write_grey_video(videos / "train" / "abseiling" / f"{clip('---QUuC4vJs', 3, 13)}.mp4")
    write_grey_video(videos / "train" / "passing American football (in game)" / "--6bJUbfpnQ.mp4")
    write_grey_video(videos / "train" / "air drumming" / f"{clip('-0AS8SlPKMk', 0, 10)}.mkv")
    write_grey_video(videos / "val" / f"{clip('--nQbRBEz2s', 104, 114)}.mp4")
    write_grey_video(videos / "val" / f"{clip('0347ZoDXyP0', 30, 40)}.webm")
    return videos


@pytest.mark.parametrize(
    "train, val, test, form",
    [
        ("train.csv", "validate.csv", "test.csv", "DeepMind"),
        ("train.csv", "val.csv", "test.csv", "CVDF mirror"),
        ("kinetics_train.csv", "kinetics_val.csv", "kinetics_test.csv", "MMAction2"),
    ],
)
def test_k400_every_distributed_form(tmp_path, train, val, test, form):
    ann = tmp_path / "annotations"
    ann.mkdir()
    (ann / train).write_text(k400_csv(K400_TRAIN, "train", is_cc=True))
    (ann / val).write_text(k400_csv(K400_VAL, "val", is_cc=form != "CVDF mirror"))
    (ann / test).write_text("youtube_id,time_start,time_end,split\n--33Lscn6sk,4,14,test\n")
    p, out = dataset_index(tmp_path, "k400", ann, write_k400_videos(tmp_path))
    assert p.returncode == 0, p.stderr
    assert f"k400: {form} form of the annotations" in p.stderr
    assert f"{train} + {val}; {test} not read" in p.stderr
    want = {clip(y, s, e): (K400.index(c), "train", "ok") for c, y, s, e in K400_TRAIN}
    want |= {clip(y, s, e): (K400.index(c), "val", "ok") for c, y, s, e in K400_VAL}
    got = rows_of(out)
    assert {k: v[:3] for k, v in got.items()} == want  # the clip form for every sample
    assert got[clip("--6bJUbfpnQ", 17, 27)][3] == "--6bJUbfpnQ.mp4"  # found by its youtube id


def test_k400_form_in_the_index_log(tmp_path):
    ann = tmp_path / "k400"
    ann.mkdir()
    (ann / "train.csv").write_text(k400_csv(K400_TRAIN, "train", is_cc=True))
    (ann / "val.csv").write_text(k400_csv(K400_VAL, "val", is_cc=False))
    log = tmp_path / "logs" / "k400" / "video_index.log"
    with log_to(log):  # as scripts/dataset_index.py runs the index step
        video_index("k400", ann, [str(tmp_path)], 10, tmp_path / "i.tsv", tmp_path / "r.tsv")
    assert "k400: CVDF mirror form of the annotations" in log.read_text()


def test_k400_ambiguous_or_missing_forms(tmp_path):
    ann = tmp_path / "k400"
    ann.mkdir()
    (ann / "train.csv").write_text(k400_csv(K400_TRAIN, "train", is_cc=True))
    p, _ = dataset_index(tmp_path, "k400", ann, tmp_path)
    assert p.returncode == 2
    (line,) = p.stderr.strip().splitlines()
    assert "expected train.csv + validate.csv (DeepMind), or train.csv + val.csv" in line
    assert "kinetics_train.csv + kinetics_val.csv (MMAction2); found train.csv" in line
    (ann / "validate.csv").write_text(k400_csv(K400_VAL, "val", is_cc=True))
    (ann / "val.csv").write_text(k400_csv(K400_VAL, "val", is_cc=False))
    with pytest.raises(AnnotationError, match=r"several forms .*DeepMind.*CVDF mirror.*keep one"):
        read_dataset("k400", ann)


def test_k400_youtube_id_of_two_clips_is_not_guessed(tmp_path, capsys):
    ann = tmp_path / "k400"
    ann.mkdir()
    rows = [("abseiling", "---QUuC4vJs", 3, 13), ("abseiling", "---QUuC4vJs", 40, 50)]
    (ann / "train.csv").write_text(k400_csv(rows, "train", is_cc=True))
    (ann / "validate.csv").write_text(k400_csv(K400_VAL, "val", is_cc=True))
    write_grey_video(tmp_path / "v" / "---QUuC4vJs.mp4")
    write_grey_video(tmp_path / "v" / f"{clip('---QUuC4vJs', 40, 50)}.mp4")
    rows = video_index(
        "k400", ann, [str(tmp_path / "v")], 10, tmp_path / "i.tsv", tmp_path / "r.tsv"
    )
    status = {r.sample: r.status for r in rows if "QUuC4vJs" in r.sample}
    assert status == {
        clip("---QUuC4vJs", 3, 13): "missing_video",
        clip("---QUuC4vJs", 40, 50): "ok",
    }
    assert "1 youtube id(s) name more than one clip" in capsys.readouterr().err


# ---- FineGYM -----------------------------------------------------------------------------

GYM_TRAIN = {  # element id -> class (gym99)
    "0LtLS9wROrk_E_002407_002435_A_0003_0005": 7,
    "0LtLS9wROrk_E_002407_002435_A_0010_0012": 7,
    "A0xAXXysHUo_E_002184_002237_A_0035_0036": 98,
    "A0xAXXysHUo_E_002184_002237_A_0040_0041": 45,
}
GYM_VAL = {
    "zzm_E1FJ0bo_E_000851_000906_A_0011_0013": 3,
    "ab_c-1234Xy_E_000010_000020_A_0002_0003": 0,
}
COMPACT = re.compile(r"^.{11}_\d{6}_\d{6}_\d{4}_\d{4}$")  # e.g. A0xAXXysHUo_002184_002237_0035_0036


def write_gym_lists(root: Path, subset: str, train: dict, val: dict) -> Path:
    ann = root / "annotations"
    ann.mkdir(parents=True, exist_ok=True)
    lines = {"train": train, "val": val}
    for split, name in (("train", "element_v1.1"), ("val", "element")):
        text = "".join(f"{e} {c}\n" for e, c in lines[split].items())
        (ann / f"{subset}_{split}_{name}.txt").write_text(text)
    return ann


def test_gym_frame_dir_is_compact_whatever_the_clip_is_called(tmp_path):
    ann = write_gym_lists(tmp_path, "gym99", GYM_TRAIN, GYM_VAL)
    with (ann / "gym99_val_element.txt").open("a") as f:
        f.write("not_an_element_id 3\n")
    clips = tmp_path / "gym" / "subactions"
    named = {  # the clip files: trim_subaction.py's element-id names and compact names, mixed
        "0LtLS9wROrk_E_002407_002435_A_0003_0005": "0LtLS9wROrk_E_002407_002435_A_0003_0005.mp4",
        "0LtLS9wROrk_E_002407_002435_A_0010_0012": "0LtLS9wROrk_002407_002435_0010_0012.mp4",
        "A0xAXXysHUo_E_002184_002237_A_0035_0036": "A0xAXXysHUo_002184_002237_0035_0036.mp4",
        "zzm_E1FJ0bo_E_000851_000906_A_0011_0013": "zzm_E1FJ0bo_E_000851_000906_A_0011_0013.mp4",
        "ab_c-1234Xy_E_000010_000020_A_0002_0003": "ab_c-1234Xy_000010_000020_0002_0003.mp4",
    }
    for name in named.values():
        write_grey_video(clips / name)
    p, out = dataset_index(tmp_path, "gym", ann, tmp_path / "gym")
    assert p.returncode == 0, p.stderr
    rows = rows_of(out)
    assert all(COMPACT.match(s) for s in rows), sorted(rows)
    lists = {e: (c, "train") for e, c in GYM_TRAIN.items()} | {
        e: (c, "val") for e, c in GYM_VAL.items()
    }
    assert {s: v[:2] for s, v in rows.items()} == {compact_id(e): v for e, v in lists.items()}
    for element, name in named.items():  # the clip's own path is kept
        assert rows[compact_id(element)][2:] == ("ok", name)
    missing = compact_id("A0xAXXysHUo_E_002184_002237_A_0040_0041")
    assert rows[missing][2] == "missing_video"
    detail = {r.sample: r.detail for r in read_index(out)}[missing]
    assert f"no video named {missing}.* or {element_id(missing)}.*" in detail
    (bad,) = read_rejects(out.with_name(out.stem + ".rejects.tsv"))
    assert (bad.sample, bad.reason) == ("not_an_element_id", "bad_line")


def test_gym288_extra_videos_without_boxes_are_rejected(tmp_path):
    train = {**GYM_TRAIN, "A0xAXXysHUo_E_002184_002237_A_0040_0041": 260}
    ann = write_gym_lists(tmp_path, "gym288", train, GYM_VAL)
    for e in (*train, *GYM_VAL):
        write_grey_video(tmp_path / "gym" / f"{e}.mp4")
    boxes = {  # the boxes of the Gym99 elements, keyed by either id form
        compact_id("0LtLS9wROrk_E_002407_002435_A_0003_0005"): np.ones((2, 4), np.float32),
        "0LtLS9wROrk_E_002407_002435_A_0010_0012": np.ones((2, 4), np.float32),
        compact_id("zzm_E1FJ0bo_E_000851_000906_A_0011_0013"): np.ones((2, 4), np.float32),
    }
    box_file = ann / "gym_gt_bboxes.pkl"
    box_file.write_bytes(pickle.dumps(boxes, protocol=4))
    extra = ("--subset", "gym288", "--boxes", str(box_file))
    p, out = dataset_index(tmp_path, "gym", ann, tmp_path / "gym", extra=extra)
    assert p.returncode == 0, p.stderr
    ok = {s for s, v in rows_of(out).items() if v[2] == "ok"}
    covered = {compact_id(e) for e in boxes}
    assert ok == covered
    rejects = read_rejects(out.with_name(out.stem + ".rejects.tsv"))
    assert {r.sample: r.reason for r in rejects} == {
        compact_id(e): "no_gt_boxes" for e in (*train, *GYM_VAL) if compact_id(e) not in covered
    }
    assert all("pyskl/issues/44" in r.detail and ".txt:" in r.source for r in rejects)
    assert "3 element(s) have no ground-truth boxes" in p.stderr


def test_gym_box_layouts_accepted(tmp_path):
    e = "A0xAXXysHUo_E_002184_002237_A_0035_0036"
    c = compact_id(e)
    three = np.array([[[1, 2, 30, 40, 0.5], [0, 0, 0, 0, 0]], [[np.nan] * 5, [2, 2, 9, 9, 1]]])
    layouts = [
        {c: three},  # (T, k, 5)
        [{"frame_dir": c, "bbox": three}],  # the annotation-list style
        {"annotations": [{"frame_dir": e, "boxes": list(three)}]},
    ]
    for data in layouts:
        path = tmp_path / "boxes.pkl"
        path.write_bytes(pickle.dumps(data, protocol=4))
        boxes = load_boxes(path)
        for name in (c, e):
            frames = boxes_for(boxes, name)
            assert [f.tolist() for f in frames] == [
                [[1, 2, 30, 40, 0.5]],
                [[2, 2, 9, 9, 1]],
            ], data


C = "A0xAXXysHUo_002184_002237_0035_0036"


@pytest.mark.parametrize(
    "data, why, found",
    [
        (
            [np.zeros((3, 4), np.float32)],
            "item 0 of the list is not a dict with frame_dir",
            "found list of 1 [ndarray(3, 4) float32]",
        ),
        (
            {0: np.zeros((3, 4))},
            "key 0 is not a clip id string",
            "found dict of 1 {0: ndarray(3, 4) float64}",
        ),
        (
            {"gt_bboxes": {C: np.zeros((3, 4), np.float32)}},
            "no key is a FineGYM clip id",
            f"found dict of 1 {{'gt_bboxes': dict of 1 {{'{C}': ndarray(3, 4) float32}}}}",
        ),
        (
            {C: np.zeros((3, 7), np.float32)},
            f"entry '{C}': a box array must be (T, 4|5) or (T, k, 4|5), got (3, 7)",
            f"found dict of 1 {{'{C}': ndarray(3, 7) float32}}",
        ),
        (
            {C: {"keypoint": np.zeros((3, 17, 2))}},
            f"entry '{C}': a dict entry needs one of the keys bbox, bboxes, boxes, box",
            f"found dict of 1 {{'{C}': dict of 1 {{'keypoint': ndarray(3, 17, 2) float64}}}}",
        ),
        (
            {C: np.array([[500.0, 100, 200, 300]])},  # x, y, w, h
            "has x2 < x1 or y2 < y1: boxes are read as x1 y1 x2 y2 (is this file x, y, w, h?)",
            "found dict of 1",
        ),
        (
            {C: [[1, 2, 30, 40], "box"]},
            f"entry '{C}': frame 1: could not convert string to float",
            f"found dict of 1 {{'{C}': list of 2 [list of 4, str]}}",
        ),
    ],
)
def test_gym_box_layout_errors_show_what_was_found(tmp_path, data, why, found):
    path = tmp_path / "gym_gt_bboxes.pkl"
    path.write_bytes(pickle.dumps(data, protocol=4))
    with pytest.raises(BoxLayoutError) as err:
        load_boxes(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: not the assumed box layout (")
    assert why in msg and found in msg, msg
    assert "expected {clip id: (T, 4|5) or (T, k, 4|5) array" in msg


def test_gym_box_layout_error_message_in_full(tmp_path):
    path = tmp_path / "gym_gt_bboxes.pkl"
    path.write_bytes(pickle.dumps([np.zeros((3, 4), np.float32), None, {}], protocol=4))
    with pytest.raises(BoxLayoutError) as err:
        load_boxes(path)
    assert str(err.value) == (
        f"{path}: not the assumed box layout (item 0 of the list is not a dict with frame_dir); "
        "found list of 3 [ndarray(3, 4) float32, None, ...]; expected {clip id: (T, 4|5) or "
        "(T, k, 4|5) array | list of T per-frame (k, 4|5) boxes | {'bbox'|'bboxes'|'boxes'|"
        "'box': one of those}}, or a list of such dicts with 'frame_dir'; boxes x1 y1 x2 y2 "
        "[score]"
    )
    # through the index: one line, exit 2, before any video is looked at
    ann = write_gym_lists(tmp_path, "gym99", GYM_TRAIN, GYM_VAL)
    p, out = dataset_index(tmp_path, "gym", ann, tmp_path, extra=("--boxes", str(path)))
    assert p.returncode == 2 and not out.exists()
    assert p.stderr.strip() == f"skeleton dataset-index: error: {err.value}"
    path.write_bytes(b"not a pickle")
    with pytest.raises(BoxLayoutError, match="not a readable box pickle"):
        load_boxes(path)


def test_gym_entry_past_the_checked_ones_fails_when_used(tmp_path):
    ids = sorted(compact_id(e) for e in GYM_TRAIN)
    data = {n: np.ones((2, 4), np.float32) for n in ids[:3]}
    data[ids[3]] = [np.ones(4), np.ones((2, 6))]  # frame 1 is (2, 6)
    path = tmp_path / "gym_gt_bboxes.pkl"
    path.write_bytes(pickle.dumps(data, protocol=4))
    boxes = load_boxes(path)  # entries past the first three: kind checked only
    with pytest.raises(BoxLayoutError) as err:
        boxes_for(boxes, element_id(ids[3]))
    msg = str(err.value)
    assert f"boxes of {element_id(ids[3])}: frame 1: a frame's boxes must be (k, 4|5)" in msg
    assert "found list of 2 [ndarray(4,) float64, ndarray(2, 6) float64]" in msg


# ---- Diving48, UCF101, HMDB51, custom ----------------------------------------------------


def test_diving48_json_with_a_bom(tmp_path):
    ann = tmp_path / "Diving48"
    ann.mkdir()
    train = [
        {"vid_name": "_8Vy3dlHg2w_00000", "label": 12, "start_frame": 0, "end_frame": 84},
        {"vid_name": "_8Vy3dlHg2w_00001", "label": 47, "start_frame": 0, "end_frame": 60},
    ]
    test = [{"vid_name": "-mmq0PT-u8k_00155", "label": 0, "start_frame": 0, "end_frame": 76}]
    for name, items in (("Diving48_V2_train.json", train), ("Diving48_V2_test.json", test)):
        (ann / name).write_text(json.dumps(items, indent=1), encoding="utf-8-sig")
    assert (ann / "Diving48_V2_train.json").read_bytes()[:3] == b"\xef\xbb\xbf"
    for item in train + test:
        write_grey_video(tmp_path / "rgb" / f"{item['vid_name']}.mp4")
    p, out = dataset_index(tmp_path, "diving48", ann, tmp_path / "rgb")
    assert p.returncode == 0, p.stderr
    assert {s: v[:3] for s, v in rows_of(out).items()} == {
        "_8Vy3dlHg2w_00000": (12, "train", "ok"),
        "_8Vy3dlHg2w_00001": (47, "train", "ok"),
        "-mmq0PT-u8k_00155": (0, "test", "ok"),
    }


def test_ucf101_and_hmdb51_as_distributed(tmp_path):
    ucf = tmp_path / "ucfTrainTestlist"
    ucf.mkdir()
    classes = ["ApplyEyeMakeup", "Archery"]
    (ucf / "classInd.txt").write_bytes(b"1 ApplyEyeMakeup\r\n2 Archery\r\n")
    for k in "123":
        (ucf / f"trainlist0{k}.txt").write_bytes(
            b"ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\n"
        )
        (ucf / f"testlist0{k}.txt").write_bytes(b"Archery/v_Archery_g01_c01.avi\r\n")
    for cls, name in zip(classes, ("v_ApplyEyeMakeup_g08_c01", "v_Archery_g01_c01"), strict=True):
        write_grey_video(tmp_path / "UCF-101" / cls / f"{name}.avi")
    p, out = dataset_index(tmp_path, "ucf101", ucf, tmp_path / "UCF-101")
    assert p.returncode == 0, p.stderr
    assert {s: v[:3] for s, v in rows_of(out).items()} == {
        "v_ApplyEyeMakeup_g08_c01": (0, "train1,train2,train3", "ok"),
        "v_Archery_g01_c01": (1, "test1,test2,test3", "ok"),
    }
    splits = tmp_path / "hmdb" / HMDB51_FOLDER  # as test_train_splits.rar unpacks
    roles = {
        "Wave_hello_wave_u_cm_np1_fr_med_0.avi": "121",
        "bye.bye_wave_f_nm_np1_le_goo_1.avi": "210",
    }
    write_hmdb51_splits(splits, {"wave": roles})
    for cls in HMDB51_CLASSES:
        write_grey_video(tmp_path / "hmdb51" / cls / f"{hmdb51_filler(cls)}.avi")
    write_grey_video(tmp_path / "hmdb51" / "wave" / "Wave_hello_wave_u_cm_np1_fr_med_0.avi")
    write_grey_video(tmp_path / "hmdb51" / "wave" / "bye.bye_wave_f_nm_np1_le_goo_1.avi")
    for ann in (splits.parent, splits):  # the folder holding the split folder, or the folder
        p, out = dataset_index(tmp_path, "hmdb51", ann, tmp_path / "hmdb51")
        assert p.returncode == 0, p.stderr
        rows = rows_of(out)
        assert len(rows) == 52 and all(v[2] == "ok" for v in rows.values())
        assert rows["catch_filler_f_cm_np1_fr_med_0"][:2] == (2, "train1,train2,train3")
        assert {s: v[:3] for s, v in rows.items() if "filler" not in s} == {
            "Wave_hello_wave_u_cm_np1_fr_med_0": (50, "train1,test2,train3", "ok"),
            "bye.bye_wave_f_nm_np1_le_goo_1": (50, "test1,train2", "ok"),
        }


def test_names_with_dots_keep_all_but_the_extension(tmp_path):
    from skeleton.pose.extract import sample_name

    lst = tmp_path / "list.csv"
    lst.write_text(
        "video,label,split\nmy.clip.v2.mp4,jump,train\nclip.1.mp4,sit,val\nclip.2.avi,sit,val\n"
    )
    for name in ("my.clip.v2.mp4", "clip.1.mp4", "clip.2.avi"):
        path = write_grey_video(tmp_path / "videos" / name)
        assert video_stem(name) == sample_name(path) == name.rsplit(".", 1)[0]
    p, out = dataset_index(tmp_path, "custom", lst, tmp_path / "videos")
    assert p.returncode == 0, p.stderr
    assert rows_of(out) == {  # PYSKL's first-dot rule would give `my`, `clip` and `clip`
        "my.clip.v2": (0, "train", "ok", "my.clip.v2.mp4"),
        "clip.1": (1, "val", "ok", "clip.1.mp4"),
        "clip.2": (1, "val", "ok", "clip.2.avi"),
    }
