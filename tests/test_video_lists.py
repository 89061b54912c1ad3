"""Nothing silent in the video datasets' lists: every dropped line, left-out video and label
choice is a reject (file:line) or a one-line error, never a shifted label or a traceback.

The fixtures are the official files as users meet them: HMDB51's split folder with a class file
lost or a stray copy from a second download, FineGYM lists under the FineGym site's names and
under the names MMAction2's download_annotations.sh saves them with, Kinetics-400 CSVs with
MMAction2's underscore spelling, a clip listed twice and unusable times, PYSKL's video list,
UCF101 lines with a lost slash, Diving48 JSON. Everything runs through `skeleton dataset-index`
as a user runs it (exit status, stderr); packaging runs in the test env on pose shards in the
pose stage's format. Test env only (numpy, OpenCV for the tiny videos).
"""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import run_skeleton, write_grey_video
from video_lists import (
    HMDB51_CLASSES,
    HMDB51_FOLDER,
    hmdb51_filler,
    without_filler,
    write_hmdb51_splits,
)

from skeleton.core.annotations import load, write_annotations
from skeleton.core.files import name_problem
from skeleton.core.packaging import Report
from skeleton.core.rejects import read_rejects
from skeleton.core.validate import validate_file
from skeleton.datasets import Sample, SampleTable, label_map, read_dataset
from skeleton.datasets.custom import split_name_problem
from skeleton.datasets.finegym import compact_id
from skeleton.datasets.index import read_index
from skeleton.datasets.package import package_dense, rejects_2d

cv2 = pytest.importorskip("cv2")

K400 = label_map("k400")


def dataset_index(
    tmp_path: Path, source: str, annotations: Path, *extra: str
) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / f"{source}_videos.tsv"
    args = ["dataset-index", source, "--annotations", annotations, "--videos", tmp_path]
    p = run_skeleton(*args, "--out", out, *extra, timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    return p, out


def one_line_error(p: subprocess.CompletedProcess) -> str:
    """The error of a failed index step: exit 2, one line."""
    assert p.returncode == 2, p.stderr
    (line,) = p.stderr.strip().splitlines()
    assert line.startswith("skeleton dataset-index: error: ")
    return line


def rejects_of(out: Path) -> list:
    return read_rejects(out.with_name(out.stem + ".rejects.tsv"))


def pose_annotation(name: str, frames: int = 3) -> dict:
    """A one-person 2D annotation as `skeleton pose` writes it."""
    rng = np.random.default_rng(len(name))
    return {
        "frame_dir": name,
        "label": -1,
        "img_shape": (24, 32),
        "original_shape": (24, 32),
        "total_frames": frames,
        "keypoint": rng.uniform(0, 30, (1, frames, 17, 2)).astype(np.float32),
        "keypoint_score": rng.uniform(0.2, 1, (1, frames, 17)).astype(np.float32),
    }


# ---- HMDB51 ------------------------------------------------------------------------------

WAVE = {  # video -> ids in splits 1, 2, 3 (1 train, 2 test, 0 not used)
    "Wave_hello_wave_u_cm_np1_fr_med_0.avi": "122",
    "Wave_bye_wave_f_nm_np1_le_goo_1.avi": "000",  # in no split: MMAction2's lists leave it out
    "TrumanShow_wave_f_nm_np1_fr_med_26.avi": "211",
}


def hmdb51(tmp_path: Path) -> Path:
    return write_hmdb51_splits(tmp_path / "hmdb51" / HMDB51_FOLDER, {"wave": WAVE})


def test_hmdb51_lost_class_file_is_a_named_error_not_a_label_shift(tmp_path):
    folder = hmdb51(tmp_path)
    (folder / "catch_test_split2.txt").unlink()  # lost in a partial unrar
    line = one_line_error(dataset_index(tmp_path, "hmdb51", folder.parent)[0])
    assert "catch_test_split2.txt missing" in line and "51 classes" in line
    for k in "13":
        (folder / f"catch_test_split{k}.txt").unlink()
    line = one_line_error(dataset_index(tmp_path, "hmdb51", folder)[0])
    assert "no split files of 1 of the 51 classes (catch)" in line


@pytest.mark.parametrize(
    "stray",
    [
        "wave_test_split1 (1).txt",  # a browser's second download of the same file
        "Wave_test_split1.txt",  # a class spelled differently: a 52nd class
        "yawn_test_split1.txt",  # a class HMDB51 does not have
        "wave_test_split4.txt",
    ],
)
def test_hmdb51_stray_split_file_is_a_named_error(tmp_path, stray):
    folder = hmdb51(tmp_path)
    (folder / stray).write_text((folder / "wave_test_split1.txt").read_text())
    line = one_line_error(dataset_index(tmp_path, "hmdb51", folder)[0])
    assert f"{stray}: not the split file of an HMDB51 class" in line


def test_hmdb51_video_in_no_split_is_left_out_and_reported(tmp_path):
    folder = hmdb51(tmp_path)
    for cls in HMDB51_CLASSES:  # `wave` has its own lines, no filler
        if cls != "wave":
            write_grey_video(tmp_path / "videos" / cls / f"{hmdb51_filler(cls)}.avi")
    for name in WAVE:
        write_grey_video(tmp_path / "videos" / "wave" / name)
    p, out = dataset_index(tmp_path, "hmdb51", folder)
    assert p.returncode == 0, p.stderr
    rows = {r.sample: r for r in read_index(out)}
    assert "Wave_bye_wave_f_nm_np1_le_goo_1" not in rows and len(rows) == 52
    assert rows["Wave_hello_wave_u_cm_np1_fr_med_0"].splits == "train1,test2,test3"
    assert rows["Wave_hello_wave_u_cm_np1_fr_med_0"].label == HMDB51_CLASSES.index("wave")
    (r,) = rejects_of(out)
    assert (r.sample, r.reason) == ("Wave_bye_wave_f_nm_np1_le_goo_1", "in_no_split")
    assert r.source == f"{folder / 'wave_test_split1.txt'}:2"
    assert "wave_test_split{1,2,3}.txt" in r.detail and "MMAction2" in r.detail
    assert "1 left out (in_no_split 1)" in p.stderr
    # and it is counted where the dataset's report is made
    reported = rejects_2d(
        "hmdb51", out, [], tmp_path / "rejects_2d.tsv", out.with_name(out.stem + ".rejects.tsv")
    )
    assert [x.reason for x in reported] == ["in_no_split"]


# ---- FineGYM -----------------------------------------------------------------------------

GYM_TRAIN_V10 = [
    "0LtLS9wROrk_E_002407_002435_A_0003_0005 7",
    "A0xAXXysHUo_E_002184_002237_A_0035_0036 98",
]
GYM_TRAIN_V11 = [*GYM_TRAIN_V10, "A0xAXXysHUo_E_002184_002237_A_0040_0041 45"]
GYM_VAL = ["zzm_E1FJ0bo_E_000851_000906_A_0011_0013 3"]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{x}\n" for x in lines))
    return path


def mmaction2_gym_annotations(root: Path) -> Path:
    """data/gym/annotations after MMAction2's download_annotations.sh and generate_file_list.py:
    the lists saved as gym99_{train,val}_org.txt, its own filtered lists beside them."""
    ann = root / "data" / "gym" / "annotations"
    write_lines(ann / "gym99_train_org.txt", GYM_TRAIN_V10)
    write_lines(ann / "gym99_val_org.txt", GYM_VAL)
    write_lines(ann / "gym99_train.txt", [f"{x.split()[0]}.mp4 {x.split()[1]}" for x in GYM_VAL])
    (ann / "annotation.json").write_text("{}")
    return ann


def test_gym_mmaction2_download_names_accepted(tmp_path):
    ann = mmaction2_gym_annotations(tmp_path)
    for line in GYM_TRAIN_V10 + GYM_VAL:  # trim_subaction.py's clip names
        write_grey_video(tmp_path / "data" / "gym" / "subactions" / f"{line.split()[0]}.mp4")
    p, out = dataset_index(tmp_path, "gym", ann)
    assert p.returncode == 0, p.stderr
    assert "gym99 train: gym99_train_org.txt" in p.stderr
    assert "gym99 val: gym99_val_org.txt" in p.stderr
    got = {r.sample: (r.label, r.splits, r.status) for r in read_index(out)}
    want = {compact_id(x.split()[0]): (int(x.split()[1]), "train", "ok") for x in GYM_TRAIN_V10}
    want |= {compact_id(x.split()[0]): (int(x.split()[1]), "val", "ok") for x in GYM_VAL}
    assert got == want


def test_gym_several_list_versions_are_a_choice(tmp_path):
    ann = mmaction2_gym_annotations(tmp_path)
    # the same v1.0 list under the FineGym site's name: one list, not a choice
    write_lines(ann / "gym99_train_element_v1.0.txt", GYM_TRAIN_V10)
    p, out = dataset_index(tmp_path, "gym", ann)
    assert p.returncode == 0, p.stderr
    assert "gym99_train_org.txt not read" in p.stderr
    # v1.1 beside it holds one more element: taking either silently drops or adds it
    write_lines(ann / "gym99_train_element_v1.1.txt", GYM_TRAIN_V11)
    line = one_line_error(dataset_index(tmp_path, "gym", ann)[0])
    assert "several gym99 train lists that differ" in line
    assert "gym99_train_element_v1.1.txt (v1.1)" in line and "gym99_train_org.txt (org)" in line
    assert "--list-version" in line and "gym.list_version" in line
    p, out = dataset_index(tmp_path, "gym", ann, "--list-version", "v1.1")
    assert p.returncode == 0, p.stderr
    assert "gym99 train: gym99_train_element_v1.1.txt (" in p.stderr
    assert sum(r.splits == "train" for r in read_index(out)) == 3
    p, out = dataset_index(tmp_path, "gym", ann, "--list-version", "v1.0")
    assert sum(r.splits == "train" for r in read_index(out)) == 2
    line = one_line_error(dataset_index(tmp_path, "gym", ann, "--list-version", "v2")[0])
    assert "no gym99 train list of version v2" in line


def test_gym_two_subsets_need_a_choice(tmp_path):
    ann = tmp_path / "finegym"
    write_lines(ann / "gym99_train_element_v1.1.txt", GYM_TRAIN_V10)
    write_lines(ann / "gym99_val_element.txt", GYM_VAL)
    write_lines(
        ann / "gym288_train_element_v1.1.txt", ["0LtLS9wROrk_E_002407_002435_A_0003_0005 200"]
    )
    write_lines(ann / "gym288_val_element.txt", ["zzm_E1FJ0bo_E_000851_000906_A_0011_0013 280"])
    line = one_line_error(dataset_index(tmp_path, "gym", ann)[0])
    assert "holds the lists of gym288 and gym99: choose one with --subset" in line
    p, out = dataset_index(tmp_path, "gym", ann, "--subset", "gym288")
    assert p.returncode == 0, p.stderr
    assert "gym99 lists present, not read (subset gym288)" in p.stderr
    assert sorted(r.label for r in read_index(out)) == [200, 280]


# ---- Kinetics-400 ------------------------------------------------------------------------

HEADER = "label,youtube_id,time_start,time_end,split,is_cc"


def k400(tmp_path: Path, train: list[str], val: list[str]) -> Path:
    ann = tmp_path / "kinetics400" / "annotations"
    write_lines(ann / "kinetics_train.csv", [HEADER, *train])
    write_lines(ann / "kinetics_val.csv", [HEADER, *val])
    return ann


def test_k400_mmaction2_underscore_class_names(tmp_path):
    ann = k400(
        tmp_path,
        [
            "air_drumming,-0AS8SlPKMk,0,10,train,0",
            '"passing_American_football_(in_game)",--6bJUbfpnQ,17,27,train,0',
            "air drumming,--nQbRBEz2s,104,114,train,0",
        ],
        ["abseiling,0347ZoDXyP0,30,40,val,0"],
    )
    p, out = dataset_index(tmp_path, "k400", ann)
    assert p.returncode == 0, p.stderr
    labels = {r.sample: r.label for r in read_index(out)}
    assert labels == {
        "-0AS8SlPKMk_000000_000010": K400.index("air drumming"),
        "--6bJUbfpnQ_000017_000027": K400.index("passing American football (in game)"),
        "--nQbRBEz2s_000104_000114": K400.index("air drumming"),
        "0347ZoDXyP0_000030_000040": K400.index("abseiling"),
    }
    assert rejects_of(out) == []


@pytest.mark.parametrize(
    "start, end, why",
    [
        ("inf", "10", "time_start 'inf' is not a time in 0..999999 s"),
        ("nan", "10", "time_start 'nan' is not a time in 0..999999 s"),
        ("0", "1e400", "time_end '1e400' is not a time in 0..999999 s"),
        ("1e300", "1e300", "time_start '1e300' is not a time in 0..999999 s"),
        ("-5", "5", "time_start '-5' is not a time in 0..999999 s"),
        ("", "10", "time_start '' is not a number of seconds"),
        ("3s", "13", "time_start '3s' is not a number of seconds"),
        ("20", "10", "time_end 10 is before time_start 20"),
    ],
)
def test_k400_bad_times_are_a_reject_of_their_row(tmp_path, start, end, why):
    ann = k400(
        tmp_path,
        ["abseiling,---QUuC4vJs,3,13,train,0", f"abseiling,-0AS8SlPKMk,{start},{end},train,0"],
        ["abseiling,0347ZoDXyP0,30,40,val,0"],
    )
    p, out = dataset_index(tmp_path, "k400", ann)
    assert p.returncode == 0, p.stderr
    assert len(read_index(out)) == 2  # the other rows are read
    (r,) = rejects_of(out)
    assert (r.sample, r.source, r.reason) == (
        "-0AS8SlPKMk",
        f"{ann / 'kinetics_train.csv'}:3",
        "bad_line",
    )
    assert r.detail == why and "{" not in r.detail


def test_k400_csv_field_over_csvs_limit_is_one_line(tmp_path):
    ann = k400(
        tmp_path,
        ["abseiling,---QUuC4vJs,3,13,train,0", f'"{"x" * 200_000}",-0AS8SlPKMk,0,10,train,0'],
        ["abseiling,0347ZoDXyP0,30,40,val,0"],
    )
    line = one_line_error(dataset_index(tmp_path, "k400", ann)[0])
    assert f"{ann / 'kinetics_train.csv'}:3: not CSV (field larger than field limit" in line


def test_k400_clip_listed_with_two_labels_is_left_out_and_counted(tmp_path):
    conflict = "--07WQ2iBlw_000001_000011"
    ann = k400(
        tmp_path,
        ["abseiling,---QUuC4vJs,3,13,train,0", "javelin throw,--07WQ2iBlw,1,11,train,0"],
        ["abseiling,0347ZoDXyP0,30,40,val,0", '"hurling (sport)",--07WQ2iBlw,1,11,val,0'],
    )
    for name in ("---QUuC4vJs_000003_000013", "0347ZoDXyP0_000030_000040", conflict):
        write_grey_video(tmp_path / "videos" / f"{name}.mp4")
    p, out = dataset_index(tmp_path, "k400", ann)
    assert p.returncode == 0, p.stderr
    assert conflict not in {r.sample for r in read_index(out)}  # no split gets a guessed label
    (r,) = rejects_of(out)
    assert (r.sample, r.reason) == (conflict, "label_conflict")
    assert f"label {K400.index('javelin throw')} at {ann / 'kinetics_train.csv'}:3" in r.detail
    assert f"label {K400.index('hurling (sport)')} at {ann / 'kinetics_val.csv'}:3" in r.detail
    assert "1 rejected (label_conflict 1)" in p.stderr
    # the dataset's report and summary count it
    shard = tmp_path / "shard_0.pkl"
    ok = [r.sample for r in read_index(out) if r.status == "ok"]
    write_annotations(shard, [pose_annotation(n) for n in ok], split=None)
    report, summary = tmp_path / "rejects_2d.tsv", tmp_path / "k400_2d.summary.json"
    rejects_2d("k400", out, [], report, out.with_name(out.stem + ".rejects.tsv"))
    counts = package_dense(out, [str(shard)], tmp_path / "k400_2d.pkl",
                           Report("k400", "2d", report, summary=str(summary)))  # fmt: skip
    assert counts["samples"] == 2 and counts["rejects"] == {"label_conflict": 1}
    doc = json.loads(summary.read_text())
    assert doc["reasons"] == {"label_conflict": 1} and doc["rejected"] == 1
    assert doc["examples"][0].startswith(f"{conflict}: label_conflict: listed with different")
    data = load(tmp_path / "k400_2d.pkl")
    assert conflict not in {a["frame_dir"] for a in data["annotations"]}


def test_a_sample_listed_three_times_is_one_reject():
    table = SampleTable("custom", ["all"])
    for label, line in ((0, 1), (1, 2), (0, 3), (2, 4)):
        table.add(Sample("clip", label, source=f"list.csv:{line}"), "all")
    (r,) = table.rejects
    assert not table.samples and (r.source, r.reason) == ("list.csv:1", "label_conflict")
    assert "label 0 at list.csv:1; label 1 at list.csv:2; label 0 at list.csv:3; 1 more" in (
        r.detail
    )


# ---- custom lists ------------------------------------------------------------------------


def test_custom_pyskl_video_list(tmp_path):
    clips = tmp_path / "data" / "clips"
    for name in ("jump_01.mp4", "sit_02.mp4", "wave_03.avi"):
        write_grey_video(clips / name)
    lst = tmp_path / "data" / "video_list.txt"  # PYSKL: `<path> <label>`, one a line
    lst.write_bytes(
        b"clips/jump_01.mp4 0\r\n"
        b"clips/sit_02.mp4   2\r\n"
        + f"{clips / 'wave_03.avi'}\t1\r\n".encode()
        + b"clips/unlabelled.mp4\r\n"  # PYSKL's inference-only form
        b"clips/my clip.mp4 1\r\n"  # a path with a space cannot be in this form
    )
    p, out = dataset_index(tmp_path, "custom", lst)
    assert p.returncode == 0, p.stderr
    assert "custom: video_list.txt: PYSKL's video list '<video> <label>'" in p.stderr
    got = {r.sample: (r.label, r.splits, r.status) for r in read_index(out)}
    assert got == {"jump_01": (0, "all", "ok"), "sit_02": (2, "all", "ok")} | {
        "wave_03": (1, "all", "ok")
    }
    rejects = {r.source.rsplit(":", 1)[1]: (r.sample, r.reason, r.detail) for r in rejects_of(out)}
    assert rejects["4"][:2] == ("unlabelled", "bad_line") and "inference-only" in rejects["4"][2]
    assert rejects["5"][1] == "bad_line" and "a path with spaces needs the CSV" in rejects["5"][2]


@pytest.mark.parametrize(
    "text, why",
    [
        ("clips/a.mp4\nclips/b.mp4\n", "bad_line 2); first: {lst}:1: a: bad_line: no label"),
        ("video,label\na.mp4,\nb.mp4,\n", "bad_line 2); first: {lst}:2: a: bad_line: no label"),
        ("video,label,split\na.mp4,jump,../x\n", "bad_split 1); first: {lst}:2: a: bad_split"),
        ("# nothing yet\n", "no sample listed"),
    ],
)
def test_custom_list_without_a_usable_line_fails_at_the_index(tmp_path, text, why):
    lst = tmp_path / "list.csv"
    lst.write_text(text)
    line = one_line_error(dataset_index(tmp_path, "custom", lst)[0])
    assert why.format(lst=lst) in line
    assert not (tmp_path / "custom_videos.tsv").exists()


def test_custom_split_names_checked_where_they_are_read(tmp_path):
    for name in ("a", "b", "c", "d", "e", "f"):
        write_grey_video(tmp_path / "clips" / f"{name}.mp4")
    lst = tmp_path / "clips" / "list.csv"
    lst.write_text(
        "video,label,split\n"
        "a.mp4,jump,train\n"
        'b.mp4,jump,"tr,ain"\n'  # one field: quoted
        "c.mp4,sit,tr,ain\n"  # four fields: not a split named tr
        "d.mp4,sit,../x\n"
        "e.mp4,sit,val/extra\n"
        "f.mp4,sit,val\n"
    )
    p, out = dataset_index(tmp_path, "custom", lst)
    assert p.returncode == 0, p.stderr
    assert {r.sample: r.splits for r in read_index(out)} == {"a": "train", "f": "val"}
    got = {r.sample: (r.source, r.reason, r.detail) for r in rejects_of(out)}
    assert got["b"] == (
        f"{lst}:3",
        "bad_split",
        "split 'tr,ain' holds ',', which separates split names in the index",
    )
    assert got["c"][:2] == (f"{lst}:4", "bad_line") and "quote a field" in got["c"][2]
    assert got["d"] == (f"{lst}:5", "bad_split", "split '../x' holds a path separator")
    assert got["e"][1] == "bad_split"


@pytest.mark.parametrize(
    "name", ["train", "x" * 255, "../x", "..", "a\\b", "tr\tain", "x" * 256, "tr,ain"]
)
def test_split_name_rule_is_validates(tmp_path, name):
    """The custom reader refuses a split name exactly when `skeleton validate` would refuse the
    pickle holding it (plus the index's separator, which a pickle may hold)."""
    path = tmp_path / "x.pkl"
    ann = pose_annotation("clip") | {"label": 0}
    path.write_bytes(pickle.dumps({"split": {name: ["clip"]}, "annotations": [ann]}, protocol=4))
    refused = split_name_problem(name) is not None
    assert refused == (not validate_file(path).ok or "," in name)
    assert refused == (name_problem(name) is not None or "," in name)


# ---- UCF101 and Diving48 messages --------------------------------------------------------


def test_ucf101_line_without_its_class_folder_is_malformed(tmp_path):
    ann = tmp_path / "ucfTrainTestlist"
    ann.mkdir()
    (ann / "classInd.txt").write_bytes(b"1 ApplyEyeMakeup\r\n2 Archery\r\n")
    for k in "123":
        (ann / f"trainlist0{k}.txt").write_bytes(
            b"ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\n"
            b"ApplyEyeMakeup v_ApplyEyeMakeup_g09_c01.avi 1\r\n"  # the slash lost in an edit
            b"Archer/v_Archery_g08_c01.avi 2\r\n"
        )
        (ann / f"testlist0{k}.txt").write_bytes(b"Archery/v_Archery_g01_c01.avi\r\n")
    p, out = dataset_index(tmp_path, "ucf101", ann)
    assert p.returncode == 0, p.stderr
    rejects = [r for r in rejects_of(out) if r.source.startswith(str(ann / "trainlist01.txt"))]
    assert [(r.sample, r.source.rsplit(":", 1)[1], r.reason) for r in rejects] == [
        ("v_ApplyEyeMakeup_g09_c01", "2", "bad_line"),
        ("v_Archery_g08_c01", "3", "unknown_label"),
    ]
    assert rejects[0].detail.startswith("malformed line (no <ClassName>/ folder before the video)")
    assert "'ApplyEyeMakeup v_ApplyEyeMakeup_g09_c01.avi 1'" in rejects[0].detail
    assert rejects[1].detail == "folder 'Archer' is not a class of classInd.txt"
    (ann / "classInd.txt").write_bytes(b"1 ApplyEyeMakeup\r\n2 Archery\r\n2 Archery\r\n")
    line = one_line_error(dataset_index(tmp_path, "ucf101", ann)[0])
    assert "classInd.txt:3: index 2 listed twice" in line


def test_diving48_rejects_cite_the_vid_name(tmp_path):
    ann = tmp_path / "Diving48"
    ann.mkdir()
    train = [
        {"vid_name": "_8Vy3dlHg2w_00000", "label": 12, "start_frame": 0, "end_frame": 84},
        {"vid_name": "_8Vy3dlHg2w_00001", "label": 48, "start_frame": 0, "end_frame": 60},
        {"vid_name": "_8Vy3dlHg2w_00002", "label": True, "start_frame": 0, "end_frame": 60},
        {"vid_name": "_8Vy3dlHg2w_00003", "label": "7", "start_frame": 0, "end_frame": 60},
        {"label": 3, "start_frame": 0, "end_frame": 60},
        ["_8Vy3dlHg2w_00004", 3],
    ]
    test = [
        {"vid_name": "-mmq0PT-u8k_00155", "label": 0, "start_frame": 0, "end_frame": 76},
        {"vid_name": "_8Vy3dlHg2w_00000", "label": 13, "start_frame": 0, "end_frame": 84},
    ]
    (ann / "Diving48_V2_train.json").write_text(json.dumps(train))
    (ann / "Diving48_V2_test.json").write_text(json.dumps(test))
    p, out = dataset_index(tmp_path, "diving48", ann)
    assert p.returncode == 0, p.stderr
    assert [r.sample for r in read_index(out)] == ["-mmq0PT-u8k_00155"]
    train_json = ann / "Diving48_V2_train.json"
    got = {r.source: (r.sample, r.reason, r.detail) for r in rejects_of(out)}
    assert got == {
        f"{train_json}[0] (vid_name '_8Vy3dlHg2w_00000')": (
            "_8Vy3dlHg2w_00000",
            "label_conflict",
            f"listed with different labels (label 12 at {train_json}[0] (vid_name "
            f"'_8Vy3dlHg2w_00000'); label 13 at {ann / 'Diving48_V2_test.json'}[1] (vid_name "
            "'_8Vy3dlHg2w_00000')): left out, which is right is unknown",
        ),
        f"{train_json}[1] (vid_name '_8Vy3dlHg2w_00001')": (
            "_8Vy3dlHg2w_00001",
            "unknown_label",
            "label 48 not in 0..47",
        ),
        f"{train_json}[2] (vid_name '_8Vy3dlHg2w_00002')": (
            "_8Vy3dlHg2w_00002",
            "unknown_label",
            "label true: expected an int class 0..47",
        ),
        f"{train_json}[3] (vid_name '_8Vy3dlHg2w_00003')": (
            "_8Vy3dlHg2w_00003",
            "unknown_label",
            "label '7': expected an int class 0..47",
        ),
        f"{train_json}[4]": ("#4", "bad_entry", "no vid_name"),
        f"{train_json}[5]": ("#5", "bad_entry", "element 5 is a JSON list, not a video object"),
    }


def test_diving48_deeply_nested_json_is_one_line(tmp_path):
    ann = tmp_path / "Diving48"
    ann.mkdir()
    depth = 200_000
    (ann / "Diving48_V2_train.json").write_text("[" * depth + "]" * depth)
    (ann / "Diving48_V2_test.json").write_text("[]")
    line = one_line_error(dataset_index(tmp_path, "diving48", ann)[0])
    assert "Diving48_V2_train.json: JSON nested too deeply" in line


def test_hmdb51_folder_from_fixture_reads_whole(tmp_path):
    """The shared fixture is a valid HMDB51 folder: 51 classes, labels by the shipped map."""
    table = read_dataset("hmdb51", hmdb51(tmp_path))
    assert table.classes == HMDB51_CLASSES and len(table.samples) == 52
    assert without_filler(table.split())["train1"] == ["Wave_hello_wave_u_cm_np1_fr_med_0"]
