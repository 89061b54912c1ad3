"""HMDB51: `testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt`.

Format (the official test_train_splits.rar from serre-lab.clps.brown.edu HMDB51 page; the same
files MMAction2's tools/data/hmdb51 reads): one line per video of the class,
`<video>.avi <id>` (often with a trailing space), id 1 = training, 2 = testing, 0 = not used in
that split. Splits `train1 test1 train2 test2 train3 test3` (as in PYSKL's released pickle);
labels 0-based by sorted class name (the class is the file name before `_test_split<k>`).
The annotations folder may be the `testTrainMulti_7030_splits` folder itself or hold it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from skeleton.core.rejects import Reject
from skeleton.datasets import AnnotationError, Sample, SampleTable, text_lines, video_stem

SPLITS = ("train1", "test1", "train2", "test2", "train3", "test3")
FOLDER = "testTrainMulti_7030_splits"
SPLIT_FILE_RE = re.compile(r"^(?P<cls>.+)_test_split(?P<k>[123])\.txt$")
ROLE = {"1": "train", "2": "test"}  # "0": not used in this split


def split_files(annotations: str | os.PathLike) -> dict[tuple[str, str], Path]:
    root = Path(annotations)
    if (root / FOLDER).is_dir():
        root = root / FOLDER
    found = {}
    for p in sorted(root.glob("*_test_split*.txt")):
        m = SPLIT_FILE_RE.match(p.name)
        if m:
            found[(m["cls"], m["k"])] = p
    if not found:
        raise AnnotationError(f"{root}: no <class>_test_split<k>.txt files ({FOLDER})")
    return found


def read(annotations: str | os.PathLike, **_options) -> SampleTable:
    files = split_files(annotations)
    classes = sorted({cls for cls, _ in files})
    for cls in classes:
        absent = [k for k in "123" if (cls, k) not in files]
        if absent:
            raise AnnotationError(
                f"{annotations}: {cls}_test_split{absent[0]}.txt missing ({FOLDER})"
            )
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
                            "bad_line",
                            f"expected '<video> 0|1|2', got {line!r}",
                        )
                    )
                    continue
                role = ROLE.get(parts[1])
                table.add(
                    Sample(video_stem(parts[0]), label, source=where),
                    f"{role}{k}" if role else None,
                )
    return table
