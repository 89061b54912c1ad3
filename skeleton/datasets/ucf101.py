"""UCF101: `classInd.txt`, `trainlist0{1,2,3}.txt`, `testlist0{1,2,3}.txt` (ucfTrainTestlist).

Formats (the official ucfTrainTestlist.zip from crcv.ucf.edu/data/UCF101.php, as read by
MMAction2's tools/data/ucf101 and PYSKL's released ucf101 pickle, whose split names are
train1/test1/...): `classInd.txt` lines `<1-based index> <ClassName>`; train lists
`<ClassName>/<video>.avi <1-based index>`; test lists `<ClassName>/<video>.avi`. Files use CRLF.
Labels are 0-based from classInd. Known quirk: the folder is `HandstandPushups` while the videos
are named `v_HandStandPushups_*`; the class comes from the folder, the frame_dir from the file.
"""

from __future__ import annotations

import os

from skeleton.core.rejects import Reject
from skeleton.datasets import (
    AnnotationError,
    Sample,
    SampleTable,
    need_file,
    text_lines,
    video_stem,
)

SPLITS = ("train1", "test1", "train2", "test2", "train3", "test3")
CLASS_FILE = "classInd.txt"


def read_classes(path: str | os.PathLike) -> list[str]:
    classes: dict[int, str] = {}
    for no, line in text_lines(path):
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not parts[0].isdigit():
            raise AnnotationError(f"{path}:{no}: expected '<index> <ClassName>', got {line!r}")
        classes[int(parts[0])] = parts[1].strip()
    if sorted(classes) != list(range(1, len(classes) + 1)):
        raise AnnotationError(f"{path}: class indices are not 1..{len(classes)}")
    return [classes[i] for i in range(1, len(classes) + 1)]


def read(annotations: str | os.PathLike, **_options) -> SampleTable:
    classes = read_classes(need_file(annotations, CLASS_FILE))
    index = {c: i for i, c in enumerate(classes)}
    lower = {c.lower(): i for i, c in enumerate(classes)}
    table = SampleTable("ucf101", list(SPLITS), classes=classes)
    for split in SPLITS:
        kind, k = split[:-1], split[-1]
        path = need_file(annotations, f"{kind}list0{k}.txt")
        for no, line in text_lines(path):
            where = f"{path}:{no}"
            parts = line.split()
            video = parts[0]
            cls = video.replace("\\", "/").split("/")[0] if "/" in video else ""
            label = index.get(cls, lower.get(cls.lower()))
            if label is None and kind == "train" and len(parts) > 1 and parts[1].isdigit():
                label = int(parts[1]) - 1
            if label is None or not 0 <= label < len(classes):
                table.rejects.append(
                    Reject(video_stem(video), where, "unknown_label", f"class of {line!r}")
                )
                continue
            if kind == "train" and len(parts) > 1 and parts[1] != str(label + 1):
                table.rejects.append(
                    Reject(
                        video_stem(video),
                        where,
                        "label_conflict",
                        f"index {parts[1]} but folder {cls} is {label + 1} in {CLASS_FILE}",
                    )
                )
                continue
            table.add(Sample(video_stem(video), label, source=where), split)
    return table
