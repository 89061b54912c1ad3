"""`pip install skeleton` without extras: numpy alone runs the NTU 3D, validate, info and convert
commands; a command needing an extra names it; make-env's copy of an installed package.

A fresh venv gets the wheel of a copy of the project and, through a .pth line, a folder holding
only this venv's numpy: the light install exactly, without downloading anything.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sysconfig
import zipfile
from pathlib import Path

import numpy
import pytest
from conftest import LISTED_MISSING, install_wheel

from skeleton.core.rejects import read_rejects

pytestmark = pytest.mark.slow  # a wheel build and fresh venvs


def light_venv(root: Path, wheel: Path) -> tuple[Path, dict[str, str]]:
    """A venv holding the wheel and numpy, nothing else; its environment for subprocesses."""
    venv = root / "venv"
    site, env = install_wheel(venv, wheel)
    only_numpy = root / "numpy-only"
    only_numpy.mkdir()
    here = Path(numpy.__file__).parent.parent
    for entry in here.iterdir():
        if entry.name.split("-")[0] in ("numpy", "numpy.libs"):
            (only_numpy / entry.name).symlink_to(entry)
    (site / "numpy-only.pth").write_text(f"{only_numpy}\n")
    return venv, env


def test_numpy_alone_runs_the_3d_commands(tmp_path, wheel, synth_ntu):
    venv, env = light_venv(tmp_path, wheel)
    python = str(venv / "bin" / "python")
    absent = subprocess.run(
        [python, "-c", "import importlib.util as u; print([m for m in ('yaml', 'cv2', "
         "'matplotlib', 'snakemake', 'tqdm', 'jsonschema', 'PIL') if u.find_spec(m)])"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert absent == "[]", absent  # the light install really is light

    def skeleton(*args: str | Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["skeleton", *map(str, args)], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip

    raw = tmp_path / "raw"
    shutil.copytree(synth_ntu / "ntu60", raw)
    shutil.copy(sorted(raw.glob("*.skeleton"))[0], raw / f"{LISTED_MISSING}.skeleton")
    p = skeleton("ntu3d", raw, "--out", "out.pkl", "--rejects", "r.tsv", "--manifest", "m.json")
    assert p.returncode == 0, p.stderr
    assert [r.sample for r in read_rejects(tmp_path / "r.tsv")] == [LISTED_MISSING]
    for args in (["info", "out.pkl"], ["validate", "out.pkl"], ["convert", "split", "out.pkl",
                 "split"], ["synth-ntu", "more", "--samples", "2"],
                 ["fetch", (tmp_path / "out.pkl").as_uri(), "copy.pkl"]):  # fmt: skip
        p = skeleton(*args)
        assert p.returncode == 0, (args, p.stderr)
    with open(tmp_path / "copy.pkl", "rb") as f:
        assert len(pickle.load(f)["annotations"]) == 40
    # every command's help works without the extras
    from skeleton.cli import COMMANDS

    for command in COMMANDS:
        p = skeleton(command, "--help")
        assert p.returncode == 0 and "usage: skeleton" in p.stdout, (command, p.stderr)
    # a command that needs an extra says which, in one line
    with open(tmp_path / "out.pkl", "rb") as f:
        sample = pickle.load(f)["annotations"][0]["frame_dir"]
    p = skeleton(
        "visualize", "out.pkl", "--sample", sample, "--kind", "skeleton3d", "--out", "a.gif"
    )
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert "pip install 'skeleton[pictures]'" in p.stderr


def test_make_env_installs_the_same_version_from_an_installed_package(tmp_path, wheel):
    """make-env from a plain install: the wheel it makes of the installed files holds what the
    original wheel held (less the compiled reader, built for another interpreter), and installs
    into another venv as a working copy of the same version."""
    venv, env = light_venv(tmp_path, wheel)
    code = (
        "import sys; from skeleton.workflow import venv; "
        "assert not venv.is_checkout(venv.REPO_ROOT); "
        "print(venv.wheel_from_installed(sys.argv[1])); print(venv._project_requirements("
        "venv.REPO_ROOT)); print(venv._installed_identity())"
    )
    out = subprocess.run(
        [venv / "bin" / "python", "-c", code, tmp_path / "made"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    made = Path(out[0])
    from skeleton.workflow import venv as venvs

    # the same requirements as a checkout computes from pyproject.toml
    assert out[1] == str(venvs._project_requirements(venvs.REPO_ROOT))
    assert out[2].startswith("skeleton==0.1.0 (installed, record ")

    def members(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist()}

    original, copy = members(wheel), members(made)
    skipped = ("/RECORD", "/WHEEL")
    assert {n: b for n, b in original.items() if not n.endswith((".so", *skipped))} == {
        n: b for n, b in copy.items() if not n.endswith(skipped)
    }
    assert b"Root-Is-Purelib: true" in next(b for n, b in copy.items() if n.endswith("/WHEEL"))

    other = tmp_path / "other"
    other_site, _ = install_wheel(other, made)
    site = sysconfig.get_paths()["purelib"]  # numpy for the run below
    (other_site / "deps.pth").write_text(f"{site}\n")
    version = subprocess.run(
        [other / "bin" / "skeleton", "--version"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert version.strip() == "skeleton 0.1.0"
