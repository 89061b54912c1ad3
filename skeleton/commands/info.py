"""`skeleton info`: what an annotation pickle holds (counts, splits, shapes, dtypes)."""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from skeleton.cli import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="summarise an annotation pickle (loaded safely)",
        description="Print what an annotation pickle holds: annotation count, splits, keys, "
        "keypoint shapes and dtypes, frame counts, labels and image shapes. The file is read "
        "with the restricted loader (an unsafe pickle is refused, exit 2).",
    )
    p.add_argument("pickle", metavar="FILE.pkl", help="a combined pickle or a list of annotations")
    p.set_defaults(func=run)


def describe(data: object) -> list[str]:
    if isinstance(data, dict) and "annotations" in data:
        annos, split = data["annotations"], data.get("split") or {}
    elif isinstance(data, list):
        annos, split = data, {}
    else:
        raise UsageError("not an annotation pickle (expected a dict with 'annotations' or a list)")
    lines = [f"annotations: {len(annos)}"]
    if split:
        lines.append("splits:")
        lines += [f"  {k}: {len(v)}" for k, v in split.items()]
    keys = Counter(k for a in annos for k in a)
    lines.append(
        "keys: "
        + ", ".join(f"{k}" + ("" if n == len(annos) else f" ({n})") for k, n in keys.items())
    )
    for key in ("keypoint", "keypoint_score"):
        arrays = [a[key] for a in annos if isinstance(a.get(key), np.ndarray)]
        if not arrays:
            continue
        dtypes = Counter(str(x.dtype) for x in arrays)
        persons = Counter(x.shape[0] for x in arrays)
        tail = Counter(x.shape[2:] for x in arrays)
        frames = [x.shape[1] for x in arrays]
        lines.append(
            f"{key}: dtype {dict(dtypes)}, persons {dict(sorted(persons.items()))}, "
            f"(V, C) {dict(tail)}, frames min {min(frames)} / median "
            f"{int(np.median(frames))} / max {max(frames)}"
        )
    labels = [a["label"] for a in annos if "label" in a]
    if labels:
        lines.append(f"labels: {len(set(labels))} classes, {min(labels)}..{max(labels)}")
    shapes = Counter(tuple(a["img_shape"]) for a in annos if "img_shape" in a)
    if shapes:
        lines.append(f"img_shape: {dict(shapes.most_common(5))}")
    return lines


def run(args: argparse.Namespace) -> int:
    from skeleton.annotations import load

    try:
        data = load(args.pickle)
    except FileNotFoundError:
        raise UsageError(f"{args.pickle}: no such file") from None
    print(f"{args.pickle}")
    for line in describe(data):
        print(line)
    return 0
