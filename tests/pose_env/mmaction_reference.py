"""MMAction2's own NTU box functions, loaded from the installed mmaction2 package at test time.

`load(path)` parses `mmaction/.mim/tools/data/skeleton/ntu_pose_extraction.py` (MMAction2
1.2.0; nothing of it is copied into this repository) and executes only its pure-numpy box
functions, with numpy and defaultdict as their globals: the script's imports (mmengine,
mmaction.apis) are not needed and not run. The functions use `np.Inf`, so they need numpy < 2,
as MMAction2 1.2.0 itself: run this with the pose env's python (numpy 1.26).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np

FUNCTIONS = (
    "intersection",
    "iou",
    "area",
    "removedup",
    "is_easy_example",
    "bbox2tracklet",
    "drop_tracklet",
    "distance_tracklet",
    "tracklet2bbox",
    "tracklets2bbox",
    "bboxes2bbox",
    "ntu_det_postproc",
)


def _det_score_thr(tree: ast.Module) -> float:
    """The script's `args.det_score_thr = ...` (detection_inference keeps scores above it)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and target.attr == "det_score_thr":
                return float(ast.literal_eval(node.value))
    raise LookupError("no args.det_score_thr assignment in the script")


def load(path: str | Path) -> SimpleNamespace:
    path = Path(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in FUNCTIONS]
    missing = set(FUNCTIONS) - {d.name for d in defs}
    if missing:
        raise LookupError(f"{path}: no function {', '.join(sorted(missing))}")
    namespace = {"np": np, "defaultdict": defaultdict, "print": lambda *a, **k: None}
    exec(compile(ast.Module(body=defs, type_ignores=[]), str(path), "exec"), namespace)
    return SimpleNamespace(
        det_score_thr=_det_score_thr(tree), **{name: namespace[name] for name in FUNCTIONS}
    )
