"""Reshaping annotation pickles: per-split files, merging, and BABEL -> MMAction2.

Every pickle is read with the restricted loader (`skeleton.core.safeload`) and written with
`skeleton.core.annotations.write_annotations` (atomic, numpy-1.x-loadable globals).

BABEL format (sources: the BABEL release code, github.com/abhinanda-punnakkal/BABEL,
`action_recognition/data_gen/create_dataset.py` (`store_splits_subsets`) and
`action_recognition/feeders/feeder.py`; MMAction2 `tools/data/skeleton/babel2mma2.py`):

* `<split>_ntu_sk_<n_classes>.npy`: float array N x C x T x V x M (C=3 xyz, T=150 frames = 5 s
  chunks at 30 fps zero-padded, V=25 NTU joints, M=1);
* `<split>_label_<n_classes>.pkl`: the tuple `(seg_id, (Y1, sid, chunk_n, anntr_id))` of
  per-sample lists: segment id (str), 0-based class index, BABEL sequence id, chunk number within
  the segment and annotator id.

We transpose each sample to M x T x V x C float16, name it `<seg_id>_<sid>_<chunk_n>_<anntr_id>`
as MMAction2's converter does, keep `total_frames` = T and `label` = Y1. BABEL makes one sample
per action category of a segment, so that name can repeat; a repeat gets `_l<label>` appended
(and `_<k>` if it still repeats), keeping `frame_dir` unique.

Every pickle written here passes `skeleton validate`: inputs that would make one it rejects
are refused with the reason (a whole file: its shape, dtype or split name) or, sample by
sample, left out and listed in the rejects report (a bad label, name or keypoint value).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skeleton.core import reasons, safeload
from skeleton.core.files import MAX_NAME_BYTES, name_problem
from skeleton.core.validate import MAX_TOTAL_FRAMES, quoted, show, split_name_problem

BABEL_DATA_RE = re.compile(r"^(?P<split>.+)_ntu_sk_(?P<n>[0-9]+)\.npy$")
BABEL_LABEL_FIELDS = ("Y1", "sid", "chunk_n", "anntr_id")
KEYPOINT_DTYPE_3D = np.float16  # the released NTU 3D pickles store float16
# `convert split` writes each sample once per split it is in: real pickles hold it in 2-4
# (NTU: xsub/xview/xset train or val), so 10x the input bounds what one file can make it write
# (a sample listed in 300 splits would write 300 copies). A file costs a block at least.
DEFAULT_MAX_OUTPUT_RATIO = 10.0
SPLIT_FILE_COST = 4096
SPLIT_OUTPUT_SLACK = 1 << 20
# atomic_write's temporary file beside an output is '.<name>.<8 characters>.tmp'
# (tempfile.mkstemp): 14 bytes longer than the name, which must still fit in a file name
_TMP_NAME_EXTRA = len("..") + 8 + len(".tmp")


class ConvertError(Exception):
    """An input that cannot be converted; the message is one user-facing line."""


def safe_file_name(name: str, what: str) -> str:
    """`name` when it is one plain file name (`skeleton.core.files.name_problem`) that
    `atomic_write`'s temporary file name still fits beside, else ConvertError: a name from a
    file never steers a write out of its folder."""
    why = name_problem(name)
    if why is None and len(name.encode("utf-8", "surrogatepass")) + _TMP_NAME_EXTRA > (
        MAX_NAME_BYTES
    ):
        why = (
            f"is longer than {MAX_NAME_BYTES - _TMP_NAME_EXTRA} bytes (its temporary file "
            f"needs {_TMP_NAME_EXTRA} more)"
        )
    if why is not None:
        raise ConvertError(f"{what} {quoted(name)} {why}")
    return name


def _check_written(data: Any, out: str) -> None:
    """ConvertError unless `data` is a valid annotation pickle (checked before writing it)."""
    from skeleton.core.validate import validate_data

    report = validate_data(data)
    if not report.ok:
        n = len(report.problems)
        more = f" (and {n - 1} more)" if n > 1 else ""
        first = report.problems[0]
        raise ConvertError(f"{out}: would not be a valid annotation pickle: {first}{more}")


def _weight(ann: Any) -> int:
    """About the bytes an annotation takes in a pickle: its arrays and text, and a little per
    field."""
    if not isinstance(ann, Mapping):
        return 64
    total = 64
    for value in ann.values():
        if isinstance(value, np.ndarray):
            total += value.nbytes + 64
        elif isinstance(value, str | bytes):
            total += len(value) + 16
        else:
            total += 16
    return total


def _load_valid(source: str) -> Any:
    """An annotation pickle that passes the format checks (ConvertError naming the first
    problem otherwise): what is written back out is always well-formed."""
    from skeleton.core.validate import InvalidAnnotations, load_valid

    try:
        return load_valid(source)
    except InvalidAnnotations as exc:
        raise ConvertError(str(exc)) from None


def _annotations_and_split(data: Any, source: str) -> tuple[list[dict], dict[str, list[str]]]:
    if isinstance(data, list):
        return data, {}
    if isinstance(data, Mapping) and isinstance(data.get("annotations"), list):
        split = data.get("split") or {}
        if not isinstance(split, Mapping):
            raise ConvertError(f"{source}: 'split' is not a dict")
        for name, members in split.items():
            if not isinstance(name, str):
                raise ConvertError(f"{source}: split name {quoted(name)} is not a str")
            if not isinstance(members, list | tuple) or not all(
                isinstance(m, str) for m in members
            ):
                raise ConvertError(f"{source}: split {show(name)} is not a list of frame_dir")
        return data["annotations"], {k: list(v) for k, v in split.items()}
    raise ConvertError(f"{source}: neither a list of annotations nor {{'split', 'annotations'}}")


def _frame_dirs(annotations: Sequence[Mapping[str, Any]], source: str) -> list[str]:
    names = []
    for i, ann in enumerate(annotations):
        name = ann.get("frame_dir") if isinstance(ann, Mapping) else None
        if not isinstance(name, str):
            raise ConvertError(f"{source}: annotations[{i}] has no str frame_dir")
        names.append(name)
    return names


def _check_split(split: Mapping[str, Sequence[str]], known: set[str], source: str) -> None:
    for name, members in split.items():
        absent = [m for m in members if m not in known]
        if absent:
            raise ConvertError(
                f"{source}: split {quoted(name)} names {len(absent)} frame_dir not in the "
                f"annotations (first: {show(absent[0])})"
            )


def split_pickle(
    in_path: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    prefix: str | None = None,
    max_output_ratio: float = DEFAULT_MAX_OUTPUT_RATIO,
) -> dict[str, Path]:
    """Write `<prefix>_<split>.pkl` per split, each a plain list of that split's annotations.

    Annotations keep the combined file's order (what MMAction2's split filter yields).
    `prefix` defaults to the input's stem. Every file name must be one plain path component
    (`safe_file_name`): a split named '../x' is refused before anything is written, and so is
    an input whose files would take more than `max_output_ratio` times its own size (a sample
    is written once per split it is in). Returns {split name: written path}.
    """
    from skeleton.core.annotations import write_annotations

    source = os.fspath(in_path)
    annotations, split = _annotations_and_split(_load_valid(source), source)
    if not split:
        raise ConvertError(f"{source}: no split to write files for")
    names = _frame_dirs(annotations, source)
    _check_split(split, set(names), source)
    prefix = prefix if prefix is not None else Path(source).stem
    files = {
        name: safe_file_name(f"{prefix}_{name}.pkl", f"{source}: split {show(name)}: file name")
        for name in split
    }
    weights = {n: _weight(a) for n, a in zip(names, annotations, strict=True)}
    output = sum(SPLIT_FILE_COST + sum(weights[m] for m in set(ms)) for ms in split.values())
    size = os.path.getsize(source)
    if output > max_output_ratio * size + SPLIT_OUTPUT_SLACK:
        copies = sum(len(set(ms)) for ms in split.values()) / max(len(names), 1)
        raise ConvertError(
            f"{source}: its {len(split)} splits would write about {output / 2**20:.1f} MiB, "
            f"{output / max(size, 1):.0f}x its {size / 2**20:.1f} MiB (each sample is in "
            f"{copies:.1f} splits on average); more than --max-output-ratio "
            f"{max_output_ratio:g} allows"
        )
    written: dict[str, Path] = {}
    for split_name, members in split.items():
        wanted = set(members)
        out = Path(outdir) / files[split_name]
        write_annotations(out, (a for a, n in zip(annotations, names, strict=True) if n in wanted))
        written[split_name] = out
    return written


def read_split_json(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """A split file: `{name: [frame_dir, ...]}`, or that mapping under a 'split' key."""
    with open(path, encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except ValueError as exc:
            raise ConvertError(f"{path}: not JSON: {exc}") from None
        except RecursionError:  # the json module recurses per nesting level
            raise ConvertError(f"{path}: JSON nested too deeply for a split file") from None
    if isinstance(data, Mapping) and isinstance(data.get("split"), Mapping):
        data = data["split"]
    if not isinstance(data, Mapping) or not all(
        isinstance(v, list) and all(isinstance(m, str) for m in v) for v in data.values()
    ):
        raise ConvertError(f"{path}: expected {{split name: [frame_dir, ...]}}")
    return {str(k): list(v) for k, v in data.items()}


def merge_pickles(
    out: str | os.PathLike[str],
    inputs: Sequence[str | os.PathLike[str]],
    split: Mapping[str, list[str]] | None = None,
) -> int:
    """Merge annotation lists / combined pickles into one combined pickle; returns the count.

    The split is `split` when given, else the union of the inputs' own splits. frame_dir must
    be unique across inputs and every split entry must name a merged annotation.
    """
    from skeleton.core.annotations import write_annotations

    annotations: list[dict] = []
    origin: dict[str, str] = {}
    merged_split: dict[str, list[str]] = {}
    for path in inputs:
        source = os.fspath(path)
        anns, own_split = _annotations_and_split(_load_valid(source), source)
        for name, ann in zip(_frame_dirs(anns, source), anns, strict=True):
            if name in origin:
                raise ConvertError(f"{source}: frame_dir {name!r} already came from {origin[name]}")
            origin[name] = source
            annotations.append(ann)
        for name, members in own_split.items():
            merged_split.setdefault(name, []).extend(members)
    final = {k: list(v) for k, v in (split if split is not None else merged_split).items()}
    if not final:
        raise ConvertError("no split: pass a split JSON or inputs that carry one")
    _check_split(final, set(origin), os.fspath(out))
    # valid inputs can still make an invalid whole: 2D beside 3D, differing (V, C), a split
    # name or repeated entry from the split JSON
    _check_written({"split": final, "annotations": annotations}, os.fspath(out))
    return write_annotations(out, annotations, final)


def babel_label_path(data_path: str | os.PathLike[str]) -> Path:
    """`.../train_ntu_sk_60.npy` -> `.../train_label_60.pkl` (the release's naming)."""
    path = Path(data_path)
    match = BABEL_DATA_RE.match(path.name)
    if not match:
        raise ConvertError(f"{path}: not a BABEL '<split>_ntu_sk_<n>.npy' file; pass its labels")
    return path.with_name(f"{match['split']}_label_{match['n']}.pkl")


def babel_split_name(data_path: str | os.PathLike[str]) -> str:
    match = BABEL_DATA_RE.match(Path(data_path).name)
    return match["split"] if match else Path(data_path).stem


def babel_num_classes(data_path: str | os.PathLike[str]) -> int | None:
    """The class count a release file name carries (`train_ntu_sk_60.npy` -> 60), or None."""
    match = BABEL_DATA_RE.match(Path(data_path).name)
    return int(match["n"]) if match and len(match["n"]) <= 9 else None


def _babel_array_problem(x: np.ndarray) -> str | None:
    """Why a BABEL data array cannot become valid annotations, or None."""
    if x.ndim != 5 or x.shape[1] != 3:
        return f"expected N x C x T x V x M with C = 3, got shape {x.shape}"
    if x.dtype.kind not in "fiu" or x.dtype.fields is not None:
        return f"dtype {x.dtype} holds no real numbers (float or int wanted)"
    _, _, t, v, m = x.shape
    if not (t and v and m):
        return f"shape {x.shape} has no frame, joint or person (T, V and M must be at least 1)"
    if t > MAX_TOTAL_FRAMES:
        return f"shape {x.shape}: {t} frames, more than the {MAX_TOTAL_FRAMES} a clip may have"
    return None


def _babel_labels(label_path: str, n: int) -> tuple[list[Any], dict[str, list[Any]]]:
    data = safeload.load(label_path)
    if isinstance(data, Mapping):  # tolerate a dict with the same field names
        seg_ids = data.get("seg_id")
        fields = {k: data.get(k) for k in BABEL_LABEL_FIELDS}
    elif (
        isinstance(data, tuple | list)
        and len(data) == 2
        and isinstance(data[1], tuple | list)
        and len(data[1]) >= 1
    ):
        seg_ids = data[0]
        fields = dict(zip(BABEL_LABEL_FIELDS, data[1], strict=False))
    else:
        raise ConvertError(f"{label_path}: expected (seg_id, (Y1, sid, chunk_n, anntr_id))")
    lists = {"seg_id": seg_ids, **fields}
    for key, values in lists.items():
        if values is None:
            if key == "Y1" or key == "seg_id":
                raise ConvertError(f"{label_path}: no {key} field")
            continue
        if not isinstance(values, list | tuple) and not (
            isinstance(values, np.ndarray) and values.ndim == 1
        ):
            raise ConvertError(f"{label_path}: {key} is not a list")
        if len(values) != n:
            raise ConvertError(f"{label_path}: {len(values)} {key} entries for {n} samples")
    return list(seg_ids), {k: list(v) for k, v in fields.items() if v is not None}


def _babel_names(seg_ids: list[Any], fields: dict[str, list[Any]]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for i, seg_id in enumerate(seg_ids):
        parts = [seg_id] + [fields[k][i] for k in BABEL_LABEL_FIELDS[1:] if k in fields]
        name = "_".join(str(p) for p in parts)
        if name in seen:
            name = f"{name}_l{fields['Y1'][i]}"
            base, k = name, 1
            while name in seen:
                name, k = f"{base}_{k}", k + 1
        seen.add(name)
        names.append(name)
    return names


def _label_problem(value: Any, num_classes: int | None) -> str | None:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        return f"label {safeload.short_repr(value)} is not an int"
    if value < 0:
        return f"label {value} is negative"
    if num_classes is not None and value >= num_classes:
        return f"label {value} is not below the {num_classes} classes the file name gives"
    return None


def _name_problem(name: str) -> str | None:
    if not name:
        return "its frame_dir would be empty"
    if not name.isprintable():
        return f"its frame_dir {show(name)} holds control or unpaired surrogate characters"
    return None


def babel_to_mmaction(
    out: str | os.PathLike[str],
    data_paths: Sequence[str | os.PathLike[str]],
    label_paths: Sequence[str | os.PathLike[str]] | None = None,
    rejects_path: str | os.PathLike[str] | None = None,
) -> dict[str, int]:
    """Convert BABEL `*_ntu_sk_*.npy` + label pickles into one combined MMAction2 pickle.

    Each data file becomes one split, named by its `<split>` prefix (train, val, ...). Label
    pickles default to the release's `<split>_label_<n>.pkl` beside each data file. Samples are
    streamed from a memory map, so the arrays are never all in memory. A sample with a bad label
    (`bad_label`) or NaN/inf keypoints after the float16 cast (`non_finite`) is left out and
    listed in the rejects report (`rejects_path`). Returns {split: samples written}.
    """
    from skeleton.core.annotations import AnnotationWriter
    from skeleton.core.rejects import Reject, write_rejects

    if label_paths is not None and len(label_paths) != len(data_paths):
        raise ConvertError(f"{len(label_paths)} label pickles for {len(data_paths)} data files")
    plans = []
    split: dict[str, list[str]] = {}
    all_names: set[str] = set()
    for j, data_path in enumerate(data_paths):
        label_path = os.fspath(label_paths[j] if label_paths else babel_label_path(data_path))
        try:
            x = np.load(data_path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ConvertError(f"{data_path}: cannot read as a .npy array: {exc}") from exc
        problem = _babel_array_problem(x)
        if problem is None and plans and x.shape[3] != plans[0][1].shape[3]:
            problem = f"{x.shape[3]} joints, {plans[0][0]} has {plans[0][1].shape[3]}"
        if problem is not None:
            raise ConvertError(f"{data_path}: {problem}")
        seg_ids, fields = _babel_labels(label_path, x.shape[0])
        names = _babel_names(seg_ids, fields)
        clash = all_names.intersection(names)
        if clash:
            raise ConvertError(
                f"{data_path}: frame_dir {sorted(clash)[0]!r} already in another file"
            )
        all_names.update(names)
        name = babel_split_name(data_path)
        why = split_name_problem(name)
        if why is not None:
            raise ConvertError(f"{data_path}: split name {quoted(name)} (from the file name) {why}")
        if name in split:
            raise ConvertError(f"{data_path}: split {name!r} given twice")
        split[name] = names
        plans.append((os.fspath(data_path), x, names, fields["Y1"], babel_num_classes(data_path)))

    rejects: list[Reject] = []
    kept: set[str] = set()
    with AnnotationWriter(out, combined=True) as writer:
        for data_path, x, names, labels, num_classes in plans:
            for i, name in enumerate(names):
                where = f"{data_path}[{i}]"
                problem = _name_problem(name)
                if problem:
                    rejects.append(Reject(f"{data_path}[{i}]", where, reasons.BAD_NAME, problem))
                    continue
                problem = _label_problem(labels[i], num_classes)
                if problem:
                    rejects.append(Reject(name, where, reasons.BAD_LABEL, problem))
                    continue
                with np.errstate(over="ignore"):  # overflow becomes inf, rejected below
                    keypoint = np.ascontiguousarray(
                        np.asarray(x[i]).transpose(3, 1, 2, 0), dtype=KEYPOINT_DTYPE_3D
                    )
                bad = int(np.count_nonzero(~np.isfinite(keypoint)))
                if bad:
                    detail = f"{bad} NaN/inf keypoint values (float16 holds |x| <= 65504)"
                    rejects.append(Reject(name, where, reasons.NON_FINITE, detail))
                    continue
                writer.add(
                    {
                        "frame_dir": name,
                        "label": int(labels[i]),
                        "keypoint": keypoint,
                        "total_frames": int(keypoint.shape[1]),
                    }
                )
                kept.add(name)
        if not kept:
            raise ConvertError(f"no sample converted: all {len(rejects)} rejected")
        writer.split = {k: [n for n in v if n in kept] for k, v in split.items()}
    if rejects_path is not None:
        write_rejects(rejects, rejects_path)
    return {k: len(v) for k, v in writer.split.items()}
