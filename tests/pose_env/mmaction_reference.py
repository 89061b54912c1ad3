"""MMAction2's NTU pose extraction, loaded from an installed mmaction2 1.2.0 at run time (nothing
of it is copied into this repository): the one loader of the reference, for the tests (its box
functions beside ours, tests/pose_env/ntu_boxes.py) and for bench/pose_e2e.py (the whole script,
run as the reference).

The script is `mmaction/.mim/tools/data/skeleton/ntu_pose_extraction.py` (`SCRIPT` inside the
package). `package_of(python)` finds the mmaction package of an interpreter, `consumer_package()`
that of the MMAction2 consumer venv (.ci/mmaction-env.sh builds or reuses it, as the tests'
tests/mmaction_consumer.py does). `box_functions(script)` executes only the script's pure-numpy
box functions, with numpy and defaultdict as their globals: its imports (mmengine,
mmaction.apis) are not needed and not run. They use `np.Inf`, so they need numpy < 2, as
MMAction2 1.2.0 itself: run them with the pose env's python (numpy 1.26). `whole_script(script)`
executes all of it (mmengine, mmdet, mmpose and mmaction importable: the pose env with the
package on sys.path).
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
from collections import defaultdict
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(".mim/tools/data/skeleton/ntu_pose_extraction.py")  # inside the mmaction package
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


def package_of(python: str) -> Path:
    """The mmaction package folder `python` imports."""
    code = (
        "import importlib.util as u; print(u.find_spec('mmaction').submodule_search_locations[0])"
    )
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    if proc.returncode:
        raise LookupError(f"{python} has no mmaction: {proc.stderr.strip()[-500:]}")
    return Path(proc.stdout.strip())


def consumer_package() -> Path:
    """The mmaction package of the MMAction2 consumer venv, built (once) by .ci/mmaction-env.sh."""
    proc = subprocess.run(
        ["bash", str(REPO / ".ci" / "mmaction-env.sh")], capture_output=True, text=True
    )
    if proc.returncode:
        raise LookupError(f".ci/mmaction-env.sh failed: {proc.stderr.strip()[-1500:]}")
    return package_of(proc.stdout.strip().splitlines()[-1])


def script(package: str | Path) -> Path:
    path = Path(package) / SCRIPT
    if not path.is_file():
        raise LookupError(f"{path}: missing from the installed mmaction2")
    return path


def _det_score_thr(tree: ast.Module) -> float:
    """The script's `args.det_score_thr = ...` (detection_inference keeps scores above it)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and target.attr == "det_score_thr":
                return float(ast.literal_eval(node.value))
    raise LookupError("no args.det_score_thr assignment in the script")


def box_functions(path: str | Path) -> SimpleNamespace:
    """The script's box functions (FUNCTIONS) and its detection threshold (`det_score_thr`)."""
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


def whole_script(path: str | Path) -> ModuleType:
    """The script as a module: its functions and its `args` (the settings its main would use)."""
    spec = importlib.util.spec_from_file_location("mmaction_ntu_pose_extraction", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
