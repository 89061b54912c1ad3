"""The command line: which module each command lives in, and what the 3D path imports."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys

from conftest import run_skeleton

from skeleton.cli import COMMAND_MODULES, COMMANDS, build_parser


def test_commands_table_matches_the_registered_parsers():
    for module in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        for name in sub.choices:
            assert COMMANDS.get(name) == module, name
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(COMMANDS)


def test_ntu3d_imports_only_what_it_uses(tmp_path, synth_ntu):
    """The 3D build never loads the picture, pose, config or progress-bar libraries, and numpy
    loads with one BLAS thread."""
    code = (
        "import json, os, sys; from skeleton.cli import main; rc = main(sys.argv[1:]); "
        "print(json.dumps({'rc': rc, 'modules': sorted(sys.modules), "
        "'blas': os.environ.get('OPENBLAS_NUM_THREADS')}))"
    )
    args = ["ntu3d", str(synth_ntu / "ntu60"), "--out", str(tmp_path / "x.pkl")]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["rc"] == 0 and got["blas"] == "1"
    heavy = {"matplotlib", "cv2", "yaml", "jsonschema", "tqdm", "torch", "skeleton.pictures.render"}
    assert not heavy & {m.split(".")[0] for m in got["modules"]} - {"skeleton"}
    assert "skeleton.pictures.render" not in got["modules"]
    assert "numpy" in got["modules"]


def test_help_and_unknown_commands_still_list_every_command():
    proc = run_skeleton("nosuch")
    assert proc.returncode == 2
    assert all(name in proc.stderr for name in COMMANDS)
