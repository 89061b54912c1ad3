"""FineGYM: element lists (Gym99 / Gym288) and the released ground-truth athlete boxes.

Element lists (sdolivia.github.io/FineGym, "Download": `gym99_train_element_v1.1.txt`,
`gym99_val_element.txt`, `gym288_train_element_v1.1.txt`, `gym288_val_element.txt`): one line
`<element id> <0-based class>`, the id `<youtube id>_E_<event start>_<event end>_A_<action
start>_<action end>`. Splits `train val`. MMAction2's tools/data/gym/download_annotations.sh
saves v1.0 of the Gym99 train list and the val list as `gym99_train_org.txt` /
`gym99_val_org.txt`: read as well. Nothing is taken silently when there is a choice: lists of
both subsets need `subset` (`--subset`, config `gym.subset`), and several lists of one split that
differ (v1.0 and v1.1) need `list_version` (`--list-version`, config `gym.list_version`); the
index log names the lists read.

Sample names: frame_dir is always the compact id `<youtube id>_<event start>_<event end>_<action
start>_<action end>` (the element id without `E_` and `A_`, e.g.
`A0xAXXysHUo_002184_002237_0035_0036`), the form of the released gym 2D pickle (PYSKL
gym_hrnet.pkl, MMAction2 gym_2d.pkl), whatever the clip file is called: MMAction2's
tools/data/gym/trim_subaction.py writes `subactions/<element id>.mp4`, other copies use the
compact name, and one video folder may mix both. The index keeps the clip's own path.

Ground-truth boxes: PoseC3D's FineGYM skeletons are estimated inside ground-truth athlete boxes,
released as `gym_gt_bboxes.pkl` (download.openmmlab.com/mmaction/pyskl/data/gym/gym_gt_bboxes.pkl,
linked from PYSKL tools/data/README.md and by its author in open-mmlab/mmaction2#2179; in
pyskl#92 he says the gym poses were run on those boxes directly). None of these says what is
inside the file, so `load_boxes` assumes exactly this layout (`BOX_LAYOUT`) and fails with what
it found otherwise:

* the pickle is a dict {clip id: entry}, the clip id in either form (compact or element id); or
  a list of dicts, each with `frame_dir` and one of the box keys below (the annotation-list style
  of the PYSKL pickles), bare or under `annotations`;
* an entry is the clip's boxes frame by frame, frame t of the trimmed clip as decoded (frames past
  the end have no box), in pixels of that frame, `x1 y1 x2 y2 [score]` (score 1.0 when absent):
  - an array (T, 4) or (T, 5): one box per frame, or (T, k, 4|5): k per frame;
  - a list of T frames, each None, empty, (4,), (5,), (k, 4) or (k, 5);
  - a dict holding one of those under `bbox`, `bboxes`, `boxes` or `box`;
* no box in a frame: None, empty, a row with a non-finite value, or a row of zero area; a finite
  row with x2 < x1 or y2 < y1 is an error (boxes stored as x, y, w, h would show this).

Gym288's extra videos: the released boxes cover the Gym99 videos only; PYSKL releases no Gym288
skeletons because there are no ground-truth boxes for the additional videos (pyskl#44). Given
the box file (`read(..., boxes=...)`, `dataset-index gym --boxes`), an element without boxes is
rejected (`no_gt_boxes`) at the index, before any pose job: no detector fallback, which would
put detector boxes (spectators and judges included) into a dataset whose point is the
ground-truth athlete box.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from skeleton.core import reasons
from skeleton.core.rejects import Reject
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
from skeleton.pose.boxes import BoxLookup

SUBSETS = {"gym99": 99, "gym288": 288}
SPLITS = ("train", "val")
ELEMENT_RE = re.compile(r"^(?P<yid>.+)_E_(?P<es>\d+)_(?P<ee>\d+)_A_(?P<as>\d+)_(?P<ae>\d+)$")
COMPACT_RE = re.compile(r"^(?P<yid>.+)_(?P<es>\d+)_(?P<ee>\d+)_(?P<as>\d+)_(?P<ae>\d+)$")
# an element list's name: the FineGym site's `<subset>_<split>_element[_v<version>].txt`, or
# `<subset>_<split>_org.txt` as MMAction2's tools/data/gym/download_annotations.sh saves them
LIST_RE = re.compile(
    r"^(?P<subset>gym\d+)_(?P<split>train|val)_"
    r"(?:element(?:_(?P<version>v\d+(?:\.\d+)*))?|(?P<org>org))\.txt$"
)
ORG, UNVERSIONED = "org", "unversioned"
LABEL_RE = re.compile(r"-?[0-9]{1,6}")  # a class as the lists write it
BOX_KEYS = ("bbox", "bboxes", "boxes", "box")
BOXES_FILE = "gym_gt_bboxes.pkl"
PYSKL_44 = "github.com/kennymckormick/pyskl/issues/44"
BOX_LAYOUT = (
    "{clip id: (T, 4|5) or (T, k, 4|5) array | list of T per-frame (k, 4|5) boxes | "
    "{'bbox'|'bboxes'|'boxes'|'box': one of those}}, or a list of such dicts with 'frame_dir'; "
    "boxes x1 y1 x2 y2 [score]"
)
CHECKED_ENTRIES = 3  # entries parsed in full when the file is loaded (the rest when used)


class BoxLayoutError(AnnotationError):
    """The box file, or one of its entries, is not in the layout `load_boxes` assumes."""


def compact_id(element_id: str) -> str:
    """`<yid>_E_<es>_<ee>_A_<as>_<ae>` -> `<yid>_<es>_<ee>_<as>_<ae>` (PYSKL's frame_dir)."""
    m = ELEMENT_RE.match(element_id)
    return f"{m['yid']}_{m['es']}_{m['ee']}_{m['as']}_{m['ae']}" if m else element_id


def element_id(compact: str) -> str:
    """`<yid>_<es>_<ee>_<as>_<ae>` -> `<yid>_E_<es>_<ee>_A_<as>_<ae>` (the lists' element id)."""
    if ELEMENT_RE.match(compact):
        return compact
    m = COMPACT_RE.match(compact)
    return f"{m['yid']}_E_{m['es']}_{m['ee']}_A_{m['as']}_{m['ae']}" if m else compact


def is_clip_id(name: str) -> bool:
    return bool(ELEMENT_RE.match(name) or COMPACT_RE.match(name))


def list_version(path: Path) -> str:
    """The version a list's name carries: `v1.1`, `v1.0`, `org` (MMAction2's name for the
    list it downloads: v1.0 of train, the val list) or `unversioned`."""
    m = LIST_RE.match(path.name)
    if m is None:
        raise ValueError(f"{path.name} is not a FineGYM element list")
    return m["version"] or (ORG if m["org"] else UNVERSIONED)


def element_lists(annotations: str | os.PathLike, subset: str, split: str) -> list[Path]:
    """Every list of `subset`'s `split` in the folder, by name."""
    found = Path(annotations).glob(f"{subset}_{split}_*.txt")
    return sorted(p for p in found if (m := LIST_RE.match(p.name)) and m["subset"] == subset)


def element_list(
    annotations: str | os.PathLike, subset: str, split: str, version: str | None = None
) -> Path:
    """The one list of `subset`'s `split`. Several that differ (v1.0 and v1.1 of the train
    list, say) are an error unless `version` names one: elements only in the other would be
    dropped silently. Copies with the same bytes (v1.0 and MMAction2's `_org` copy of it) are
    one list. With `version`, a split released in one version only (the val lists, never
    versioned) takes its only list."""
    found = element_lists(annotations, subset, split)
    if not found:
        raise AnnotationError(
            f"{annotations}: no {subset} {split} list ({subset}_{split}_element*.txt as the "
            f"FineGym site names it, or {subset}_{split}_org.txt as MMAction2's "
            "tools/data/gym/download_annotations.sh saves it)"
        )
    shown = ", ".join(f"{p.name} ({list_version(p)})" for p in found)
    if version is not None:
        chosen = [p for p in found if list_version(p) == version]
        if chosen:
            return chosen[0]
        if len(found) == 1 and list_version(found[0]) in (ORG, UNVERSIONED):
            return found[0]
        raise AnnotationError(
            f"{annotations}: no {subset} {split} list of version {version}; found {shown}"
        )
    if len(found) == 1 or len({p.read_bytes() for p in found}) == 1:
        return found[0]
    versions = " or ".join(list_version(p) for p in found)
    raise AnnotationError(
        f"{annotations}: several {subset} {split} lists that differ: {shown}; choose one with "
        f"--list-version {versions} (config gym.list_version), or keep one"
    )


def subsets_present(folder: str | os.PathLike) -> list[str]:
    names = {m["subset"] for p in Path(folder).glob("gym*.txt") if (m := LIST_RE.match(p.name))}
    return sorted(names & set(SUBSETS))


def find_subset(annotations: str | os.PathLike, subset: str | None) -> str:
    """`subset`, or the one subset whose lists the folder holds (an error when it holds
    several: Gym99 and Gym288 label the same elements differently)."""
    folder = Path(annotations)
    if not folder.is_dir():
        raise AnnotationError(f"{folder}: no such folder (the FineGYM element lists)")
    if subset is not None:
        if subset not in SUBSETS:
            raise ValueError(f"unknown FineGYM subset {subset!r}; choose from {', '.join(SUBSETS)}")
        return subset
    present = subsets_present(folder)
    if len(present) == 1:
        return present[0]
    if not present:
        raise AnnotationError(
            f"{folder}: no FineGYM element lists (gym99_train_element*.txt, gym99_val_element"
            ".txt, or MMAction2's gym99_train_org.txt / gym99_val_org.txt; gym288 alike)"
        )
    raise AnnotationError(
        f"{folder}: holds the lists of {' and '.join(present)}: choose one with --subset "
        "(config gym.subset)"
    )


def read(
    annotations: str | os.PathLike,
    subset: str | None = None,
    boxes: str | os.PathLike | None = None,
    list_version: str | None = None,
    **_options,
) -> SampleTable:
    """The element lists of `subset` (default: the one subset the folder holds lists of; see
    `element_list` for `list_version`); with `boxes` (the box file), elements it has no boxes
    for are rejected (`no_gt_boxes`)."""
    subset = find_subset(annotations, subset)
    n = SUBSETS[subset]
    classes = label_map(subset) or [str(i) for i in range(n)]  # no gym288 names shipped
    table = SampleTable("gym", list(SPLITS), classes=classes)
    others = [x for x in subsets_present(annotations) if x != subset]
    if others:
        table.notes.append(f"{' and '.join(others)} lists present, not read (subset {subset})")
    box_index = load_boxes(boxes) if boxes else None
    without: list[str] = []
    for split in SPLITS:
        path = element_list(annotations, subset, split, list_version)
        others = [p.name for p in element_lists(annotations, subset, split) if p != path]
        unread = f" ({', '.join(others)} not read)" if others else ""
        table.notes.append(f"{subset} {split}: {path.name}{unread}")
        for no, line in text_lines(path):
            parts = line.split()
            where = f"{path}:{no}"
            if len(parts) != 2 or not LABEL_RE.fullmatch(parts[1]):
                table.rejects.append(
                    Reject(
                        parts[0],
                        where,
                        reasons.BAD_LINE,
                        f"expected '<element id> <class>', got {quote(line)}",
                    )
                )
                continue
            element, label = parts[0], int(parts[1])
            if not ELEMENT_RE.match(element):
                table.rejects.append(
                    Reject(
                        element,
                        where,
                        reasons.BAD_LINE,
                        f"{quote(element)} is not an element id <youtube id>_E_<event start>_"
                        "<event end>_A_<action start>_<action end>",
                    )
                )
                continue
            if not 0 <= label < n:
                table.rejects.append(
                    Reject(
                        element, where, reasons.UNKNOWN_LABEL, f"class {label} not in 0..{n - 1}"
                    )
                )
                continue
            name = compact_id(element)
            if box_index is not None and name not in box_index:
                without.append(name)
                table.mentioned.update((name, element))
                table.rejects.append(
                    Reject(
                        name,
                        where,
                        reasons.NO_GT_BOXES,
                        f"no entry in {boxes} (the released boxes cover the Gym99 videos; "
                        f"Gym288's extra videos have none, {PYSKL_44}); no detector fallback",
                    )
                )
                continue
            table.add(Sample(name, label, names=(element,), source=where), split)
    if without:
        table.notes.append(
            f"{len(set(without))} element(s) have no ground-truth boxes in {boxes} and are "
            f"rejected ({reasons.NO_GT_BOXES}), e.g. {without[0]}"
        )
    return require_samples(table, annotations)


# ---- ground-truth boxes ---------------------------------------------------------------------


def describe(obj: Any, depth: int = 2) -> str:
    """Type, size and shape of `obj` and of its first entries, for layout error messages."""
    if isinstance(obj, np.ndarray):
        return f"ndarray{obj.shape} {obj.dtype}"
    if isinstance(obj, Mapping):
        items = list(obj.items())
        if depth <= 0 or not items:
            return f"dict of {len(items)}"
        shown = ", ".join(f"{k!r}: {describe(v, depth - 1)}" for k, v in items[:3])
        return f"dict of {len(items)} {{{shown}{', ...' if len(items) > 3 else ''}}}"
    if isinstance(obj, list | tuple):
        kind = type(obj).__name__
        if depth <= 0 or not obj:
            return f"{kind} of {len(obj)}"
        shown = ", ".join(describe(v, depth - 1) for v in obj[:2])
        return f"{kind} of {len(obj)} [{shown}{', ...' if len(obj) > 2 else ''}]"
    if obj is None or isinstance(obj, bool | int | float | np.generic):
        return repr(obj)
    return type(obj).__name__


def _frame_boxes(entry: Any) -> np.ndarray:
    """One frame's boxes as (k, 5) float32 [x1 y1 x2 y2 score]; frames without a box dropped."""
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
    finite = np.isfinite(a).all(axis=1)
    flipped = finite & ((a[:, 2] < a[:, 0]) | (a[:, 3] < a[:, 1]))
    if flipped.any():
        raise ValueError(
            f"box {a[flipped][0, :4].tolist()} has x2 < x1 or y2 < y1: boxes are read as "
            "x1 y1 x2 y2 (is this file x, y, w, h?)"
        )
    return a[finite & (a[:, 2] > a[:, 0]) & (a[:, 3] > a[:, 1])]


def _box_field(entry: Any) -> Any:
    if isinstance(entry, Mapping):
        key = next((k for k in BOX_KEYS if k in entry), None)
        if key is None:
            raise ValueError(f"a dict entry needs one of the keys {', '.join(BOX_KEYS)}")
        return entry[key]
    return entry


def video_boxes(entry: Any) -> list[np.ndarray]:
    """Per-frame (k, 5) boxes of one video from a box-file entry (see the module doc)."""
    entry = _box_field(entry)
    if isinstance(entry, np.ndarray) and entry.dtype != object:
        if entry.ndim not in (2, 3) or entry.shape[-1] not in (4, 5):
            raise ValueError(f"a box array must be (T, 4|5) or (T, k, 4|5), got {entry.shape}")
        return [_frame_boxes(row) for row in entry]
    if isinstance(entry, list | tuple | np.ndarray):
        frames = []
        for t, e in enumerate(entry):
            try:
                frames.append(_frame_boxes(e))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"frame {t}: {exc}") from exc
        return frames
    raise ValueError(
        f"an entry must be an array, a list of frames or a dict, not {describe(entry)}"
    )


def _layout_error(path: Any, why: str, data: Any) -> BoxLayoutError:
    return BoxLayoutError(
        f"{path}: not the assumed box layout ({why}); found {describe(data)}; expected {BOX_LAYOUT}"
    )


def _entries(path: Any, data: Any) -> dict[str, Any]:
    """{clip id: entry} of any of the accepted top-level layouts."""
    records = data
    if isinstance(data, Mapping) and isinstance(data.get("annotations"), list | tuple):
        records = data["annotations"]
    if isinstance(records, list | tuple):
        out: dict[str, Any] = {}
        for i, r in enumerate(records):
            if not (isinstance(r, Mapping) and isinstance(r.get("frame_dir"), str)):
                raise _layout_error(
                    path, f"item {i} of the list is not a dict with frame_dir", data
                )
            out[r["frame_dir"]] = r
        return out
    if not isinstance(data, Mapping):
        raise _layout_error(path, "not a dict of clips nor a list of clip dicts", data)
    bad = next((k for k in data if not isinstance(k, str)), None)
    if bad is not None:
        raise _layout_error(path, f"key {bad!r} is not a clip id string", data)
    if data and not any(is_clip_id(k) for k in data):
        raise _layout_error(path, "no key is a FineGYM clip id", data)
    return dict(data)


def load_boxes(path: str | os.PathLike) -> dict[str, Any]:
    """The box file as {name: entry}, readable under the element id and the compact id.

    The layout (module doc, `BOX_LAYOUT`) is checked when loading: the top level, every entry's
    kind and the first `CHECKED_ENTRIES` entries (by sorted name) in full; a `BoxLayoutError`
    names what was found. The other entries are parsed when used (`boxes_for`).
    """
    from skeleton.core.safeload import load

    try:
        data = load(path)
    except (pickle.UnpicklingError, EOFError) as exc:  # not a pickle, or an unsafe one
        raise BoxLayoutError(f"{path}: not a readable box pickle ({exc})") from exc
    entries = _entries(path, data)
    for k, (name, entry) in enumerate(sorted(entries.items())):
        try:
            if k < CHECKED_ENTRIES:
                video_boxes(entry)
            elif not isinstance(_box_field(entry), list | tuple | np.ndarray):
                raise ValueError(f"not an array or a list of frames: {describe(entry)}")
        except ValueError as exc:
            raise _layout_error(path, f"entry {name!r}: {exc}", data) from exc
    out: dict[str, Any] = {}
    for name, entry in entries.items():
        out[name] = entry
    for name, entry in entries.items():
        out.setdefault(compact_id(name), entry)
        out.setdefault(element_id(name), entry)
    return out


def boxes_for(boxes: Mapping[str, Any], frame_dir: str) -> list[np.ndarray] | None:
    """The per-frame boxes of a clip (by either id form), None when the file has none."""
    entry = boxes.get(frame_dir, boxes.get(compact_id(frame_dir)))
    if entry is None:
        return None
    try:
        return video_boxes(entry)
    except ValueError as exc:
        raise BoxLayoutError(
            f"boxes of {frame_dir}: {exc}; found {describe(entry)}; expected {BOX_LAYOUT}"
        ) from exc


def box_lookup(path: str | os.PathLike) -> BoxLookup:
    """The lookup `skeleton pose --boxes` hands the extractor: frame_dir -> per-frame boxes."""
    boxes = load_boxes(path)
    return lambda name: boxes_for(boxes, name)


SOURCE = VideoSource("gym", read, SPLITS, boxes_file=BOXES_FILE)
