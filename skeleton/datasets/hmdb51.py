"""HMDB51: `testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt`.

Format (the official test_train_splits.rar from serre-lab.clps.brown.edu HMDB51 page; the same
files MMAction2's tools/data/hmdb51 reads): one line per video of the class,
`<video>.avi <id>` (often with a trailing space), id 1 = training, 2 = testing, 0 = not used in
that split. Splits `train1 test1 train2 test2 train3 test3` (as in PYSKL's released pickle);
labels 0-based by sorted class name (the class is the file name before `_test_split<k>`).
The annotations folder may be the `testTrainMulti_7030_splits` folder itself or hold it.

The class set is checked against the 51 official classes (the shipped label map,
skeleton/datasets/label_maps/hmdb51.txt, whose line k is label k): labels come from the class
set, so a missing class file, or a stray one matching `*_test_split*.txt`, would shift every
later label by one. Either is an error naming the file. A video marked 0 in all three splits is
left out, as MMAction2's lists (tools/data/parse_file_list.py, parse_hmdb51_split) leave it
out, and reported (`in_no_split`), so the rejects report accounts for every listed video.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from skeleton.core import reasons
from skeleton.core.rejects import Reject
from skeleton.core.videos import video_stem
from skeleton.datasets import (
    AnnotationError,
    Sample,
    SampleTable,
    VideoSource,
    label_map,
    quote,
    require_samples,
    text_lines,
)

SPLITS = ("train1", "test1", "train2", "test2", "train3", "test3")
FOLDER = "testTrainMulti_7030_splits"
PATTERN = "*_test_split*.txt"
SPLIT_FILE_RE = re.compile(r"^(?P<cls>.+)_test_split(?P<k>[123])\.txt$")
ROLE = {"1": "train", "2": "test"}  # "0": not used in this split
NUM_CLASSES = 51
LABEL_MAP = "skeleton/datasets/label_maps/hmdb51.txt"
SHOWN = 3  # file names shown in an error about several


def official_classes() -> list[str]:
    classes = label_map("hmdb51")
    if len(classes) != NUM_CLASSES:
        raise AnnotationError(f"{LABEL_MAP}: {len(classes)} classes, HMDB51 has {NUM_CLASSES}")
    return classes


def _names(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def split_files(annotations: str | os.PathLike) -> dict[tuple[str, str], Path]:
    """(class, k) -> `<class>_test_split<k>.txt` for every official class and k = 1, 2, 3."""
    root = Path(annotations)
    if (root / FOLDER).is_dir():
        root = root / FOLDER
    if not root.is_dir():
        raise AnnotationError(f"{root}: no such folder (HMDB51's {FOLDER})")
    classes = official_classes()
    official = set(classes)
    found: dict[tuple[str, str], Path] = {}
    stray: list[str] = []
    for p in sorted(root.glob(PATTERN)):
        m = SPLIT_FILE_RE.match(p.name)
        if m and m["cls"] in official:
            found[(m["cls"], m["k"])] = p
        else:
            stray.append(p.name)
    if not found and not stray:
        raise AnnotationError(f"{root}: no <class>_test_split<k>.txt files ({FOLDER})")
    if stray:
        raise AnnotationError(
            f"{root}: {_names(stray)}: not the split file of an HMDB51 class "
            f"(<class>_test_split<1|2|3>.txt, the {NUM_CLASSES} classes of {LABEL_MAP}); "
            "labels follow the class set, so remove or rename it"
        )
    absent = [c for c in classes if not any((c, k) in found for k in "123")]
    missing = [f"{c}_test_split{k}.txt" for c in classes for k in "123" if (c, k) not in found]
    if missing:
        what = (
            f"no split files of {len(absent)} of the {NUM_CLASSES} classes ({_names(absent)})"
            if absent
            else f"{_names(missing)} missing"
        )
        raise AnnotationError(
            f"{root}: {what}: HMDB51 has {NUM_CLASSES} classes with three split files each "
            f"({LABEL_MAP}), and labels follow the class set"
        )
    return found


def read(annotations: str | os.PathLike, **_options) -> SampleTable:
    files = split_files(annotations)
    classes = official_classes()
    table = SampleTable("hmdb51", list(SPLITS), classes=classes)
    for label, cls in enumerate(classes):
        for k in "123":
            path = files[(cls, k)]
            for no, line in text_lines(path):
                parts = line.split()
                where = f"{path}:{no}"
                if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                    table.rejects.append(
                        Reject(
                            video_stem(parts[0]),
                            where,
                            reasons.BAD_LINE,
                            f"expected '<video>.avi 0|1|2', got {quote(line)}",
                        )
                    )
                    continue
                role = ROLE.get(parts[1])
                table.add(
                    Sample(video_stem(parts[0]), label, source=where),
                    f"{role}{k}" if role else None,
                )
    for name in sorted(table.samples):
        s = table.samples[name]
        if not s.splits:
            del table.samples[name]
            detail = (
                f"no line of {classes[s.label]}_test_split{{1,2,3}}.txt puts it in a split "
                "(0 = not used): left out, as MMAction2's lists leave it out"
            )
            table.rejects.append(Reject(name, s.source, reasons.IN_NO_SPLIT, detail))
    return require_samples(table, annotations)


SOURCE = VideoSource("hmdb51", read, SPLITS)
