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

from skeleton.core import reasons
from skeleton.core.rejects import Reject
from skeleton.core.videos import video_stem
from skeleton.datasets import (
    AnnotationError,
    Sample,
    SampleTable,
    VideoSource,
    need_file,
    quote,
    require_samples,
    text_lines,
)

SPLITS = ("train1", "test1", "train2", "test2", "train3", "test3")
CLASS_FILE = "classInd.txt"
# a line of each kind of list (a test line with the index as well is read too, as MMAction2 does)
INDEX_DIGITS = 6  # longest class index taken (UCF101 has 101 classes)
LINE_FORMS = {"train": "<ClassName>/<video>.avi <index>", "test": "<ClassName>/<video>.avi"}


def read_classes(path: str | os.PathLike) -> list[str]:
    """Class names in index order; a line that is not `<index> <ClassName>`, a repeated index
    or name, or indices that are not 1..N are errors (labels follow this file)."""
    classes: dict[int, str] = {}
    first: dict[str, int] = {}  # class name -> its line
    for no, line in text_lines(path):
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not is_index(parts[0]):
            raise AnnotationError(f"{path}:{no}: expected '<index> <ClassName>', got {quote(line)}")
        k, name = int(parts[0]), parts[1].strip()
        if k in classes or name in first:
            again = f"index {k}" if k in classes else f"class {quote(name)} (line {first[name]})"
            raise AnnotationError(f"{path}:{no}: {again} listed twice")
        classes[k], first[name] = name, no
    if sorted(classes) != list(range(1, len(classes) + 1)):
        raise AnnotationError(f"{path}: class indices are not 1..{len(classes)}")
    return [classes[i] for i in range(1, len(classes) + 1)]


def is_index(text: str) -> bool:
    """A 1-based class index as the lists write it: plain ASCII digits, short."""
    return text.isascii() and text.isdigit() and len(text) <= INDEX_DIGITS


def _listed_video(parts: list[str]) -> str:
    """The sample a malformed line most likely names: its first token that looks like a file
    (`ApplyEyeMakeup v_ApplyEyeMakeup_g08_c01.avi 1` names v_ApplyEyeMakeup_g08_c01)."""
    return video_stem(next((p for p in parts if "." in p), parts[0]))


def read(annotations: str | os.PathLike, **_options) -> SampleTable:
    classes = read_classes(need_file(annotations, CLASS_FILE))
    index = {c: i for i, c in enumerate(classes)}
    lower = {c.lower(): i for i, c in enumerate(classes)}
    table = SampleTable("ucf101", list(SPLITS), classes=classes)
    for split in SPLITS:
        kind, k = split[:-1], split[-1]
        path = need_file(annotations, f"{kind}list0{k}.txt")
        form = LINE_FORMS[kind]
        for no, line in text_lines(path):
            where = f"{path}:{no}"
            parts = line.split()
            video = parts[0].replace("\\", "/")
            given = parts[1] if len(parts) > 1 else None
            if "/" not in video or len(parts) > 2 or (kind == "train" and given is None):
                if "/" not in video:
                    why = "no <ClassName>/ folder before the video"
                else:
                    why = "no class index" if given is None else f"{len(parts)} fields"
                table.rejects.append(
                    Reject(
                        _listed_video(parts),
                        where,
                        reasons.BAD_LINE,
                        f"malformed line ({why}): expected '{form}', got {quote(line)}",
                    )
                )
                continue
            if given is not None and not is_index(given):
                table.rejects.append(
                    Reject(
                        video_stem(video),
                        where,
                        reasons.BAD_LINE,
                        f"class index {quote(given)} is not a number: expected '{form}'",
                    )
                )
                continue
            cls = video.rsplit("/", 2)[-2]  # the folder the video is in
            label = index.get(cls, lower.get(cls.lower()))
            if label is None:
                table.rejects.append(
                    Reject(
                        video_stem(video),
                        where,
                        reasons.UNKNOWN_LABEL,
                        f"folder {quote(cls)} is not a class of {CLASS_FILE}",
                    )
                )
                continue
            if given is not None and int(given) != label + 1:
                table.rejects.append(
                    Reject(
                        video_stem(video),
                        where,
                        reasons.LABEL_CONFLICT,
                        f"index {given} but folder {cls} is {label + 1} in {CLASS_FILE}: "
                        "line not used",
                    )
                )
                continue
            table.add(Sample(video_stem(video), label, source=where), split)
    return require_samples(table, annotations)


SOURCE = VideoSource("ucf101", read, SPLITS)
