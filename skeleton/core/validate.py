"""Format checks for MMAction2 / PYSKL skeleton annotation pickles.

The contract (docs/HELPERS.md, PYSKL tools/data/README.md): a dict
`{'split': {name: [frame_dir, ...]}, 'annotations': [ann, ...]}`, or a plain list of annotations
(the per-split files older MMAction2 configs read). Each annotation has `frame_dir`,
`total_frames`, `label` and either

* 3D: `keypoint` (M, T, V, 3) float, no `keypoint_score`;
* 2D: `keypoint` (M, T, V, 2) float, `keypoint_score` (M, T, V), `img_shape` (h, w);
* 2D compressed (Kinetics-400 in PYSKL/MMAction2): no `keypoint`; `raw_file` names the kpfile,
  `frame_inds` / `box_score` give the frame and box score of each stored skeleton, `valid`
  counts frames kept per box-score threshold, plus `img_shape`. With the kpfile's skeletons
  merged in, `keypoint` is (N, V, 3) (x, y, score) beside `frame_inds` (N,) (MMAction2
  `DecompressPose` input).

Pickles are read with the restricted loader (`skeleton.core.safeload`); an unsafe pickle raises
`UnsafePickleError` before anything is checked. The checks take whatever plain data the loader
builds (any type anywhere) and report each problem on one line; values are shown through
`safeload.short_repr`, so a crafted name cannot add lines or terminal escapes to the report.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skeleton.core import safeload
from skeleton.core.errors import InputError
from skeleton.core.files import name_problem
from skeleton.core.safeload import short_repr

KIND_3D = "3d"
KIND_2D = "2d"
KIND_2D_COMPRESSED = "2d-compressed"

# Fields of the Kinetics-400 compressed form (PYSKL tools/data/README.md, "For Kinetics400").
COMPRESSED_KEYS: tuple[str, ...] = ("raw_file", "frame_inds", "box_score", "valid")
REQUIRED_KEYS: tuple[str, ...] = ("frame_dir", "total_frames", "label")
DEFAULT_MAX_PROBLEMS = 50
# Longest clip taken as real: 1,000,000 frames is over 9 hours at 30 fps (NTU, Kinetics and
# FineGYM clips have a few hundred); consumers allocate (M, total_frames, V, C) arrays.
MAX_TOTAL_FRAMES = 1_000_000
# Missing split entries named per split before "and N more".
_SPLIT_EXAMPLES = 3


@dataclass
class ValidationReport:
    """What `validate_data` found: the file's layout and kind, counts, and problems."""

    layout: str = "unknown"  # 'combined' (split + annotations) | 'list' | 'unknown'
    kind: str = "unknown"  # '3d' | '2d' | '2d-compressed' | 'mixed' | 'empty' | 'unknown'
    n_annotations: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    shapes: dict[str, int] = field(default_factory=dict)  # "(V, C)" -> annotation count
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: layout, kind, counts and splits."""
        parts = [f"{self.kind} {self.layout} pickle", f"{self.n_annotations} annotations"]
        if self.shapes:
            parts.append("V,C " + ", ".join(f"{k} x{n}" for k, n in sorted(self.shapes.items())))
        if self.splits:
            parts.append("splits " + ", ".join(f"{show(k)} ({n})" for k, n in self.splits.items()))
        return "; ".join(parts)


def show(value: Any) -> str:
    """A name as it may be printed: itself when short printable text; a short repr of other
    values; a mere description of text with control characters (never echoed: it could fake
    output lines or drive the terminal)."""
    if isinstance(value, str):
        if value.isprintable():
            return value if 0 < len(value) <= 80 else short_repr(value)
        return f"<{len(value)} characters with control or undecodable ones>"
    return short_repr(value)


def quoted(value: Any) -> str:
    """`show` with quotes around text, as a repr (for names inside a sentence)."""
    if isinstance(value, str) and not value.isprintable():
        return show(value)
    return short_repr(value)


def split_name_problem(name: Any) -> str | None:
    """Why `name` cannot be a split name, or None: the rule `skeleton validate` applies, for
    dataset readers to check names where they read them. A split name is a str that is one
    plain file name (`skeleton convert split` writes `<prefix>_<name>.pkl`): not empty, not '.'
    or '..', no '/', '\\' or NUL, no control character, at most 255 UTF-8 bytes
    (`skeleton.core.files.name_problem`)."""
    if not isinstance(name, str):
        return f"is {type(name).__name__}, not a str"
    return name_problem(name)


def format_problems(problems: list[str], max_problems: int = DEFAULT_MAX_PROBLEMS) -> list[str]:
    """At most `max_problems` lines, then one '... and N more problems' line."""
    if len(problems) <= max_problems:
        return list(problems)
    rest = len(problems) - max_problems
    return problems[:max_problems] + [f"... and {rest} more problem{'s' * (rest != 1)}"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _kind_of(ann: Mapping[str, Any]) -> str:
    kp = ann.get("keypoint")
    if "keypoint" not in ann and any(k in ann for k in COMPRESSED_KEYS):
        return KIND_2D_COMPRESSED
    if "frame_inds" in ann and isinstance(kp, np.ndarray) and kp.ndim == 3:
        return KIND_2D_COMPRESSED  # kpfile skeletons merged in: keypoint (N, V, 3)
    if "keypoint_score" in ann or (isinstance(kp, np.ndarray) and kp.shape[-1:] == (2,)):
        return KIND_2D
    return KIND_3D


def _check_finite(name: str, arr: np.ndarray, where: str, problems: list[str]) -> None:
    if arr.dtype.kind in "fc":
        bad = ~np.isfinite(arr)
        if bad.any():
            problems.append(f"{where}: {name} has {int(bad.sum())} NaN/inf values")


def _check_shape_pair(name: str, value: Any, where: str, problems: list[str]) -> None:
    ok = (
        (isinstance(value, tuple | list) or (isinstance(value, np.ndarray) and value.ndim == 1))
        and len(value) == 2
        and all(_is_int(v) and v > 0 for v in value)
    )
    if not ok:
        problems.append(
            f"{where}: {name} must be (height, width) positive ints, got {short_repr(value)}"
        )


def _int_array(value: Any) -> np.ndarray | None:
    """`value` as a 1-D integer array (ndarray, list or tuple of ints), else None."""
    if isinstance(value, list | tuple):
        if not all(_is_int(v) for v in value):
            return None
        try:
            value = np.asarray(value, dtype=np.int64) if value else np.zeros(0, np.int64)
        except (OverflowError, ValueError):
            return None
    if not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype.kind not in "iu":
        return None
    return value


def _check_keypoints(ann: Mapping[str, Any], kind: str, where: str, problems: list[str]) -> str:
    """Checks keypoint / keypoint_score; returns the '(V, C)' key ('' when unusable)."""
    kp = ann.get("keypoint")
    if not isinstance(kp, np.ndarray):
        problems.append(f"{where}: keypoint missing or not an ndarray ({type(kp).__name__})")
        return ""
    if kp.ndim != 4:
        problems.append(f"{where}: keypoint must be (M, T, V, C), got shape {kp.shape}")
        return ""
    if kp.dtype.kind != "f":
        problems.append(f"{where}: keypoint dtype {kp.dtype} is not floating point")
    m, t, v, c = kp.shape
    if not m or not v:
        problems.append(f"{where}: keypoint shape {kp.shape} holds no person or no joint")
    want_c = 2 if kind == KIND_2D else 3
    if c != want_c:
        problems.append(f"{where}: {kind.upper()} keypoint needs C={want_c}, shape {kp.shape}")
    total = ann.get("total_frames")
    if _is_int(total) and t != total:
        problems.append(f"{where}: keypoint shape {kp.shape} has T={t} but total_frames={total}")
    _check_finite("keypoint", kp, where, problems)
    score = ann.get("keypoint_score")
    if kind == KIND_2D:
        if not isinstance(score, np.ndarray):
            problems.append(f"{where}: 2D annotation lacks keypoint_score ndarray")
        elif score.shape != (m, t, v):
            problems.append(
                f"{where}: keypoint_score shape {score.shape} != keypoint (M, T, V) {(m, t, v)}"
            )
        else:
            _check_finite("keypoint_score", score, where, problems)
    return f"({v}, {c})"


def _check_compressed(ann: Mapping[str, Any], where: str, problems: list[str]) -> str:
    """The compressed form: a table-of-contents entry (raw_file, frame_inds, box_score, valid)
    or one with its kpfile skeletons merged in (keypoint (N, V, 3) with x, y, score)."""
    kp = ann.get("keypoint")
    shape_key = ""
    if isinstance(kp, np.ndarray):
        need: tuple[str, ...] = ("frame_inds",)
        if kp.ndim != 3 or kp.shape[-1] != 3:
            problems.append(f"{where}: compressed keypoint must be (N, V, 3), got {kp.shape}")
        else:
            shape_key = f"({kp.shape[1]}, 2)"
        if kp.dtype.kind != "f":
            problems.append(f"{where}: keypoint dtype {kp.dtype} is not floating point")
        _check_finite("keypoint", kp, where, problems)
    else:
        need = COMPRESSED_KEYS
    missing = [k for k in need if k not in ann]
    if missing:
        problems.append(f"{where}: compressed annotation lacks {', '.join(missing)}")
    if "raw_file" in need and (not isinstance(ann.get("raw_file"), str) or not ann["raw_file"]):
        problems.append(f"{where}: raw_file must be a non-empty str")
    inds = _int_array(ann.get("frame_inds"))
    if inds is None:
        problems.append(
            f"{where}: frame_inds not a 1-D int array, got {short_repr(ann.get('frame_inds'))}"
        )
        return shape_key
    total = ann.get("total_frames")
    if inds.size and _is_int(total) and (inds.min() < 0 or inds.max() >= total):
        problems.append(
            f"{where}: frame_inds span [{inds.min()}, {inds.max()}] outside total_frames={total}"
        )
    if isinstance(kp, np.ndarray) and kp.ndim == 3 and kp.shape[0] != inds.shape[0]:
        problems.append(f"{where}: {kp.shape[0]} skeletons but {inds.shape[0]} frame_inds")
    if "box_score" in ann:
        score = ann["box_score"]
        if not isinstance(score, np.ndarray) or score.dtype.kind not in "fiu":
            problems.append(f"{where}: box_score not a numeric array ({short_repr(score)})")
        elif score.shape != inds.shape:
            problems.append(
                f"{where}: box_score shape {score.shape} != frame_inds shape {inds.shape}"
            )
        elif score.dtype.kind == "f":
            _check_finite("box_score", score, where, problems)
    valid = ann.get("valid")
    if isinstance(valid, Mapping) and _is_int(total):
        # frames kept per box-score threshold (MMAction2 PoseDataset's valid_ratio filter)
        bad = [k for k, v in valid.items() if not (_is_int(v) and 0 <= v <= total)]
        if bad:
            problems.append(
                f"{where}: valid[{short_repr(bad[0])}] is not a frame count <= total_frames"
            )
    elif "valid" in ann and not isinstance(valid, Mapping):
        problems.append(f"{where}: valid must be a dict of threshold -> frame count")
    return shape_key


# The label of a video whose class is unknown: what the pose stage writes for videos outside a
# labelled dataset (MMAction2's skeleton demo does the same). Training pickles never hold it.
UNKNOWN_LABEL = -1


def _check_annotation(
    ann: Any, index: int, problems: list[str], unlabeled: bool = False
) -> tuple[str, str, str | None]:
    """Checks one annotation; returns (kind, '(V, C)' key, frame_dir or None). With
    `unlabeled`, UNKNOWN_LABEL is a label too (pose results, not training data)."""
    if not isinstance(ann, Mapping):
        problems.append(f"annotations[{index}]: not a dict ({type(ann).__name__})")
        return "unknown", "", None
    frame_dir = ann.get("frame_dir")
    where = (
        f"annotations[{index}] ({show(frame_dir)})"
        if isinstance(frame_dir, str) and frame_dir
        else (f"annotations[{index}]")
    )
    missing = [k for k in REQUIRED_KEYS if k not in ann]
    if missing:
        problems.append(f"{where}: missing required keys {', '.join(missing)}")
    if "frame_dir" in ann and (not isinstance(frame_dir, str) or not frame_dir):
        problems.append(f"{where}: frame_dir must be a non-empty str, got {short_repr(frame_dir)}")
        frame_dir = None
    elif isinstance(frame_dir, str) and not frame_dir.isprintable():
        problems.append(f"{where}: frame_dir holds control or unpaired surrogate characters")
    total = ann.get("total_frames")
    if "total_frames" in ann and not (_is_int(total) and 0 < total <= MAX_TOTAL_FRAMES):
        problems.append(
            f"{where}: total_frames must be an int in 1..{MAX_TOTAL_FRAMES}, got "
            f"{short_repr(total)}"
        )
    label = ann.get("label")
    if "label" in ann and not (
        _is_int(label) and (label >= 0 or (unlabeled and label == UNKNOWN_LABEL))
    ):
        problems.append(f"{where}: label must be a non-negative int, got {short_repr(label)}")
    kind = _kind_of(ann)
    shape_key = ""
    if kind == KIND_2D_COMPRESSED:
        shape_key = _check_compressed(ann, where, problems)
    else:
        shape_key = _check_keypoints(ann, kind, where, problems)
    if kind != KIND_3D and "img_shape" not in ann:
        problems.append(f"{where}: 2D annotation lacks img_shape")
    for key in ("img_shape", "original_shape"):  # optional in 3D, checked wherever present
        if key in ann:
            _check_shape_pair(key, ann[key], where, problems)
    return kind, shape_key, frame_dir


def _check_splits(
    split: Any, frame_dirs: set[str], report: ValidationReport, problems: list[str]
) -> None:
    if not isinstance(split, Mapping):
        problems.append(
            f"split must be a dict of name -> [frame_dir, ...], got {type(split).__name__}"
        )
        return
    for name, members in split.items():
        if not isinstance(name, str) or not isinstance(members, list | tuple):
            problems.append(f"split {quoted(name)}: must map a str to a list of frame_dir")
            continue
        why = split_name_problem(name)
        if why is not None:
            problems.append(f"split {quoted(name)}: the name {why}")
        report.splits[name] = len(members)
        absent = [m for m in members if not isinstance(m, str) or m not in frame_dirs]
        if absent:
            shown = ", ".join(show(m) for m in absent[:_SPLIT_EXAMPLES])
            extra = len(absent) - _SPLIT_EXAMPLES
            more = f" and {extra} more" if extra > 0 else ""
            problems.append(
                f"split {quoted(name)}: {len(absent)} entries not in annotations ({shown}{more})"
            )
        dups = [m for m, n in Counter(m for m in members if isinstance(m, str)).items() if n > 1]
        if dups:
            problems.append(
                f"split {quoted(name)}: {len(dups)} duplicate entries (first: {show(dups[0])})"
            )


def validate_data(
    data: Any, num_classes: int | None = None, unlabeled: bool = False
) -> ValidationReport:
    """Checks an unpickled annotation object; problems are one line each, naming the sample.

    With `num_classes`, labels must also be below it; with `unlabeled`, -1 (unknown) is
    accepted (the pose stage's results of videos without a label).
    """
    report = ValidationReport()
    problems = report.problems
    if isinstance(data, Mapping):
        report.layout = "combined"
        missing = [k for k in ("split", "annotations") if k not in data]
        if missing:
            problems.append(f"top-level dict lacks {' and '.join(missing)}")
        annotations = data.get("annotations", [])
    elif isinstance(data, list):
        report.layout = "list"
        annotations = data
    else:
        problems.append(f"top level is a {type(data).__name__}, not a dict or list")
        return report
    if not isinstance(annotations, list):
        problems.append(f"annotations must be a list, got {type(annotations).__name__}")
        annotations = []
    report.n_annotations = len(annotations)
    kinds: Counter[str] = Counter()
    shapes: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    first_index: dict[str, int] = {}
    for i, ann in enumerate(annotations):
        kind, shape_key, frame_dir = _check_annotation(ann, i, problems, unlabeled)
        label = ann.get("label") if isinstance(ann, Mapping) else None
        if num_classes is not None and _is_int(label) and label >= num_classes:
            where = f"annotations[{i}]" + (f" ({frame_dir})" if frame_dir else "")
            problems.append(f"{where}: label {label} >= num_classes {num_classes}")
        kinds[kind] += 1
        if shape_key:
            shapes[shape_key] += 1
        if frame_dir is not None:
            seen[frame_dir] += 1
            first_index.setdefault(frame_dir, i)
    for frame_dir, n in seen.items():
        if n > 1:
            problems.append(
                f"frame_dir {quoted(frame_dir)} appears {n} times (first at annotations"
                f"[{first_index[frame_dir]}])"
            )
    kinds.pop("unknown", None)
    if not annotations:
        report.kind = "empty"
    elif len(kinds) == 1:
        report.kind = next(iter(kinds))
    elif kinds:
        report.kind = "mixed"
        mix = ", ".join(f"{k} x{n}" for k, n in kinds.items())
        problems.append(f"annotations mix kinds: {mix}")
    report.shapes = dict(shapes)
    if len(shapes) > 1:
        problems.append(
            "keypoint (V, C) differs between annotations: "
            + ", ".join(f"{k} x{n}" for k, n in shapes.most_common())
        )
    if report.layout == "combined" and "split" in data:
        _check_splits(data["split"], set(seen), report, problems)
    return report


def validate_file(path: str | os.PathLike[str], num_classes: int | None = None) -> ValidationReport:
    """Loads `path` with the restricted unpickler and checks it.

    Raises `safeload.UnsafePickleError` when the pickle is refused and `OSError` when it cannot
    be read; a pickle that is corrupt (truncated, not a pickle) is reported as a problem.
    """
    try:
        data = safeload.load(path)
    except safeload.CorruptPickleError as exc:
        report = ValidationReport()
        report.problems.append(f"cannot unpickle: {exc.detail}")
        return report
    return validate_data(data, num_classes)


class InvalidAnnotations(InputError):
    """A pickle that loaded but is not a valid annotation pickle; the message is one line."""


def load_valid(
    path: str | os.PathLike[str], num_classes: int | None = None, unlabeled: bool = False
) -> Any:
    """Load an annotation pickle for use: safe load, then the format checks (`unlabeled`: as
    validate_data).

    Raises the loader's `PickleError`s, `OSError`, or `InvalidAnnotations` naming the first
    problem, so a command never works on data of an unexpected shape.
    """
    data = safeload.load(path)
    report = validate_data(data, num_classes, unlabeled)
    if not report.ok:
        n = len(report.problems)
        more = f" (and {n - 1} more; `skeleton validate {path}` lists them)" if n > 1 else ""
        first = report.problems[0]
        raise InvalidAnnotations(f"{path}: not a valid annotation pickle: {first}{more}")
    return data


def iter_lines(report: ValidationReport, path: str, max_problems: int) -> Iterable[str]:
    """The lines `skeleton validate` prints for a report."""
    if report.ok:
        yield f"{path}: valid: {report.summary()}"
        return
    for line in format_problems(report.problems, max_problems):
        yield f"{path}: {line}"
    n = len(report.problems)
    yield f"{path}: INVALID ({n} problem{'' if n == 1 else 's'}): {report.summary()}"
