"""FineGYM: element lists (Gym99 / Gym288) and the released ground-truth athlete boxes.

Element lists (sdolivia.github.io/FineGym, "Download": `gym99_train_element_v1.1.txt`,
`gym99_val_element.txt`, `gym288_train_element_v1.1.txt`, `gym288_val_element.txt`): one line
`<element id> <0-based class>`, the id `<youtube id>_E_<event start>_<event end>_A_<action
start>_<action end>` naming the trimmed element clip (MMAction2's tools/data/gym trims the
videos into `subactions/<element id>.mp4`). Splits `train val`.

Boxes: PoseC3D's FineGYM skeletons are estimated inside ground-truth athlete boxes, released as
`gym_gt_bboxes.pkl` (download.openmmlab.com/mmaction/pyskl/data/gym/gym_gt_bboxes.pkl; named in
PYSKL tools/data/README.md and by its author in open-mmlab/mmaction2 issue #2179). Its inner
layout is not documented anywhere we could find, so `load_boxes` accepts what such a file can
reasonably hold, keyed by the element id or by PYSKL's compact frame_dir (the id without `_E`
and `_A`, e.g. `A0xAXXysHUo_002184_002237_0035_0036`, the form of the released gym pickle):

* an array (T, 4) or (T, 5): one box per frame `x1 y1 x2 y2 [score]`; a row with a non-finite
  value or no area means "no box in this frame";
* a list of T entries, each None, (4,), (5,), (k, 4) or (k, 5): the boxes of that frame;
* a dict holding one of those under `bbox`, `bboxes`, `boxes` or `box`.

Boxes without a score get score 1.0.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from skeleton.datasets import AnnotationError, Sample, SampleTable, label_map, text_lines
from skeleton.rejects import Reject

SUBSETS = {"gym99": 99, "gym288": 288}
SPLITS = ("train", "val")
ELEMENT_RE = re.compile(r"^(?P<yid>.+)_E_(?P<es>\d+)_(?P<ee>\d+)_A_(?P<as>\d+)_(?P<ae>\d+)$")
BOX_KEYS = ("bbox", "bboxes", "boxes", "box")
BOXES_FILE = "gym_gt_bboxes.pkl"


def compact_id(element_id: str) -> str:
    """`<yid>_E_<es>_<ee>_A_<as>_<ae>` -> `<yid>_<es>_<ee>_<as>_<ae>` (PYSKL's frame_dir)."""
    m = ELEMENT_RE.match(element_id)
    return f"{m['yid']}_{m['es']}_{m['ee']}_{m['as']}_{m['ae']}" if m else element_id


def element_list(annotations: str | os.PathLike, subset: str, split: str) -> Path:
    """The newest `<subset>_<split>_element*.txt` (v1.1 over the unversioned one)."""
    found = sorted(Path(annotations).glob(f"{subset}_{split}_element*.txt"))
    if not found:
        raise AnnotationError(f"{annotations}: no {subset}_{split}_element*.txt (FineGYM lists)")
    return found[-1]


def read(annotations: str | os.PathLike, subset: str = "gym99", **_options) -> SampleTable:
    if subset not in SUBSETS:
        raise ValueError(f"unknown FineGYM subset {subset!r}; choose from {', '.join(SUBSETS)}")
    n = SUBSETS[subset]
    classes = label_map(subset) or [str(i) for i in range(n)]  # no gym288 names shipped
    table = SampleTable("gym", list(SPLITS), classes=classes)
    for split in SPLITS:
        path = element_list(annotations, subset, split)
        for no, line in text_lines(path):
            parts = line.split()
            where = f"{path}:{no}"
            if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
                table.rejects.append(
                    Reject(
                        parts[0],
                        where,
                        "bad_line",
                        f"expected '<element id> <class>', got {line!r}",
                    )
                )
                continue
            label = int(parts[1])
            if not 0 <= label < n:
                table.rejects.append(
                    Reject(parts[0], where, "unknown_label", f"class {label} not in 0..{n - 1}")
                )
                continue
            names = (compact_id(parts[0]),) if compact_id(parts[0]) != parts[0] else ()
            table.add(Sample(parts[0], label, names=names, source=where), split)
    return table


# ---- ground-truth boxes ---------------------------------------------------------------------


def _frame_boxes(entry: Any) -> np.ndarray:
    """One frame's boxes as (k, 5) float32 [x1 y1 x2 y2 score]; invalid rows dropped."""
    if entry is None:
        return np.zeros((0, 5), np.float32)
    a = np.asarray(entry, np.float32)
    if a.size == 0:
        return np.zeros((0, 5), np.float32)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2 or a.shape[1] not in (4, 5):
        raise ValueError(f"a frame's boxes must be (k, 4|5), got {a.shape}")
    if a.shape[1] == 4:
        a = np.concatenate([a, np.ones((len(a), 1), np.float32)], axis=1)
    ok = np.isfinite(a).all(axis=1) & (a[:, 2] > a[:, 0]) & (a[:, 3] > a[:, 1])
    return a[ok]


def video_boxes(entry: Any) -> list[np.ndarray]:
    """Per-frame (k, 5) boxes of one video from a box-file entry (see the module doc)."""
    if isinstance(entry, Mapping):
        key = next((k for k in BOX_KEYS if k in entry), None)
        if key is None:
            raise ValueError(f"a box entry dict needs one of {', '.join(BOX_KEYS)}")
        entry = entry[key]
    if isinstance(entry, np.ndarray) and entry.dtype != object:
        if entry.ndim != 2 or entry.shape[1] not in (4, 5):
            raise ValueError(f"a box array must be (T, 4|5), got {entry.shape}")
        return [_frame_boxes(row) for row in entry]
    if isinstance(entry, list | tuple | np.ndarray):
        return [_frame_boxes(e) for e in entry]
    raise ValueError(f"unsupported box entry of type {type(entry).__name__}")


def load_boxes(path: str | os.PathLike) -> dict[str, Any]:
    """The box file as {name: entry}, readable under the element id and the compact id."""
    from skeleton.safeload import load

    data = load(path)
    if not isinstance(data, Mapping):
        raise AnnotationError(
            f"{path}: expected a dict of per-video boxes, got {type(data).__name__}"
        )
    out: dict[str, Any] = {}
    for key, entry in data.items():
        out[str(key)] = entry
        out.setdefault(compact_id(str(key)), entry)
    return out


def boxes_for(boxes: Mapping[str, Any], frame_dir: str) -> list[np.ndarray] | None:
    entry = boxes.get(frame_dir, boxes.get(compact_id(frame_dir)))
    return None if entry is None else video_boxes(entry)
