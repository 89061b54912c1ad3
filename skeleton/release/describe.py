"""What an annotation pickle holds, as summary lines (`skeleton info`, the release checks)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np


class NotAnnotations(ValueError):
    """Loaded fine, but not the annotation layout; the message is one line."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _layout(data: object) -> tuple[list[Mapping], Mapping[Any, Any]]:
    """(annotations, split) of a combined pickle or a plain list; NotAnnotations otherwise."""
    from skeleton.core.validate import show

    if isinstance(data, Mapping) and "annotations" in data:
        annos, split = data["annotations"], data.get("split") or {}
    elif isinstance(data, list):
        annos, split = data, {}
    else:
        raise NotAnnotations(
            f"not an annotation pickle: a {type(data).__name__}, not a dict with 'annotations' "
            "or a list"
        )
    if not isinstance(annos, list):
        raise NotAnnotations(f"annotations is a {type(annos).__name__}, not a list")
    for i, a in enumerate(annos):
        if not isinstance(a, Mapping):
            raise NotAnnotations(f"annotations[{i}] is a {type(a).__name__}, not a dict")
    if not isinstance(split, Mapping):
        raise NotAnnotations(f"split is a {type(split).__name__}, not a dict")
    for name, members in split.items():
        if not isinstance(members, list | tuple):
            raise NotAnnotations(f"split {show(name)} is a {type(members).__name__}, not a list")
    return annos, split


def describe(data: object) -> list[str]:
    """Summary lines of loaded annotation data; NotAnnotations when it is not that layout."""
    from skeleton.core.validate import show

    annos, split = _layout(data)
    lines = [f"annotations: {len(annos)}"]
    if split:
        lines.append("splits:")
        lines += [f"  {show(k)}: {len(v)}" for k, v in split.items()]
    keys = Counter(k for a in annos for k in a)
    lines.append(
        "keys: "
        + ", ".join(show(k) + ("" if n == len(annos) else f" ({n})") for k, n in keys.items())
    )
    for key in ("keypoint", "keypoint_score"):
        arrays = [a[key] for a in annos if isinstance(a.get(key), np.ndarray)]
        if not arrays:
            continue
        dtypes = Counter(str(x.dtype) for x in arrays)
        persons = Counter(x.shape[0] if x.ndim else None for x in arrays)
        tail = Counter(x.shape[2:] for x in arrays)
        frames = [x.shape[1] for x in arrays if x.ndim > 1]
        span = (
            f", frames min {min(frames)} / median {int(np.median(frames))} / max {max(frames)}"
            if frames
            else ""
        )
        lines.append(
            f"{key}: dtype {dict(dtypes)}, persons "
            f"{dict(sorted(persons.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))}, "
            f"(V, C) {dict(tail)}{span}"
        )
    labels = [a["label"] for a in annos if _is_int(a.get("label"))]
    if labels:
        lines.append(f"labels: {len(set(labels))} classes, {min(labels)}..{max(labels)}")
    shapes = Counter(
        tuple(int(v) for v in a["img_shape"])
        for a in annos
        if isinstance(a.get("img_shape"), tuple | list)
        and len(a["img_shape"]) == 2
        and all(_is_int(v) for v in a["img_shape"])
    )
    if shapes:
        lines.append(f"img_shape: {dict(shapes.most_common(5))}")
    return lines
