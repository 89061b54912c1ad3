"""Building a recipe's venv (skeleton.workflow.envs): `skeleton make-env NAME [DIR]`.

Building is idempotent: a marker file in the venv records the hash of the recipe; a venv whose
marker matches is left alone, one whose marker differs is rebuilt from scratch, and a venv without
a marker (an interrupted build) is completed in place. pip's own cache is reused. A requirement
the recipe lists as `compiled` (mmcv: no wheel on PyPI for this torch) is compiled once and the
wheel kept in `$SKELETON_CACHE/wheels/torch-<version>/` (default `~/.cache/skeleton`): pip's
wheel cache keys a built sdist by its URL only, not by the torch it was compiled against.

The project itself goes into the venv from its checkout (editable), or, installed from a wheel,
as a wheel made from the installed files (the same version and code).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

from skeleton.workflow.envs import RECIPES, Recipe, project_name

MARKER = ".skeleton-env.json"
REPO_ROOT = Path(__file__).resolve().parents[2]  # skeleton/workflow/venv.py -> the checkout
PROJECT = "skeleton"  # this project's distribution name (pyproject.toml)
# The pose env runs the library's pose, dataset and picture code: the project's own
# dependencies with these extras (pyproject.toml) ...
PROJECT_EXTRAS = ("workflow", "pictures", "video")
# ... less snakemake (the env runs the library, not the workflow) and opencv-python-headless
# (cv2 comes from opencv-python there, which mmcv and ultralytics require; two cv2
# distributions in one env overwrite each other's files).
PROJECT_DEPS_SKIPPED = ("snakemake", "opencv-python-headless", "opencv_python_headless")


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
            elif not project_name(req).startswith(PROJECT_DEPS_SKIPPED) and req not in out:
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
        project = project_name(requirement).replace("-", "_")
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
        compiled = recipe.compiled_in(step)
        if compiled:  # from the wheels compiled against the torch installed by now
            wheels = build_compiled_wheels(recipe, vpython, constraints, log)
            binary = ",".join(project_name(req) for req in compiled)
            _run(pip + ["--find-links", str(wheels), f"--only-binary={binary}", *step.args], log)
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
