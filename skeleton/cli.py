"""The `skeleton` command line: one subcommand per pipeline stage.

Each module listed in COMMAND_MODULES exposes `register(subparsers)`, which adds its parsers and
sets `func` (args -> exit code). `main` imports only the module of the command it runs (COMMANDS
says which; `skeleton --help` and unknown commands import them all), and modules import their
heavy dependencies (torch, cv2, matplotlib) inside `func`, so the 3D path stays light.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import pickle
import sys

from skeleton.core.blas import single_threaded_blas
from skeleton.core.errors import InputError, UsageError

__all__ = ["InputError", "UsageError", "build_parser", "main", "single_threaded_blas"]

COMMAND_MODULES: tuple[str, ...] = (
    "skeleton.commands.ntu",
    "skeleton.commands.info",
    "skeleton.commands.synth",
    "skeleton.commands.validate",
    "skeleton.commands.fetch",
    "skeleton.commands.convert",
    "skeleton.commands.pose",
    "skeleton.commands.datasets",
    "skeleton.commands.visualize",
    "skeleton.commands.make_env",
)
# command -> the module that registers it (tests/test_first_hour.py checks this against them)
COMMANDS: dict[str, str] = {
    **dict.fromkeys(
        ("ntu3d", "ntu-index", "ntu-parse-shard", "ntu-splits", "ntu-package", "ntu-rejects"),
        "skeleton.commands.ntu",
    ),
    "info": "skeleton.commands.info",
    "synth-ntu": "skeleton.commands.synth",
    "validate": "skeleton.commands.validate",
    "fetch": "skeleton.commands.fetch",
    "convert": "skeleton.commands.convert",
    **dict.fromkeys(("pose", "pose-quality", "pose-drift", "pose-tag"), "skeleton.commands.pose"),
    **dict.fromkeys(
        ("dataset-index", "dataset-package", "k400-dense", "k400-video-kpfiles"),
        "skeleton.commands.datasets",
    ),
    "visualize": "skeleton.commands.visualize",
    "make-env": "skeleton.commands.make_env",
}
# Commands that run with one BLAS thread (skeleton.core.blas says why). Not the pose commands: torch
# takes its thread count from OMP_NUM_THREADS.
SINGLE_THREADED = frozenset(
    ("ntu3d", "ntu-index", "ntu-parse-shard", "ntu-splits", "ntu-package", "ntu-rejects")
    + ("info", "synth-ntu", "validate", "convert")
)


# Third-party modules that come with an extra (pyproject.toml), not with `pip install skeleton`
# (numpy alone): a command that needs a missing one says which extra in one line.
EXTRA_OF_MODULE: dict[str, str] = {
    "cv2": "video",
    "matplotlib": "pictures",
    "PIL": "pictures",
    "yaml": "workflow",
    "jsonschema": "workflow",
    "tqdm": "workflow",
    "snakemake": "workflow",
}
# commands whose whole job needs one extra (visualize draws with matplotlib and OpenCV)
EXTRA_OF_COMMAND: dict[str, str] = {"visualize": "pictures"}


def missing_extra(command: str, exc: ModuleNotFoundError) -> str | None:
    """The one-line message for a missing optional module, or None when it is not ours to name."""
    module = (exc.name or "").partition(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    extra = EXTRA_OF_COMMAND.get(command, extra)
    return (
        f"skeleton {command}: error: needs {module}, which comes with the {extra} extra: "
        f"pip install 'skeleton[{extra}]'"
    )


def check_outputs(args: argparse.Namespace) -> None:
    """Before any work: every output the command declares (`output_files`, `output_folders`:
    {dest: name shown}) can be written. Raises UsageError naming it, in one line."""
    from skeleton.core.outputs import OutputError, check_file, check_folder

    try:
        for dest, shown in getattr(args, "output_files", {}).items():
            if getattr(args, dest, None):
                check_file(getattr(args, dest), shown)
        for dest, shown in getattr(args, "output_folders", {}).items():
            if getattr(args, dest, None):
                check_folder(getattr(args, dest), shown)
    except OutputError as exc:
        raise UsageError(str(exc)) from None


@functools.lru_cache(maxsize=4)
def build_parser(modules: tuple[str, ...] = COMMAND_MODULES) -> argparse.ArgumentParser:
    from skeleton import __version__

    parser = argparse.ArgumentParser(
        prog="skeleton",
        description="Build skeleton datasets (NTU RGB+D, video datasets) for MMAction2 / PYSKL.",
    )
    parser.add_argument("--version", action="version", version=f"skeleton {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # global options take no value, so the first other word is the command
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in SINGLE_THREADED:
        single_threaded_blas()
    module = COMMANDS.get(command or "")
    parser = build_parser((module,) if module else COMMAND_MODULES)
    args = parser.parse_args(argv)
    try:
        check_outputs(args)
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"skeleton {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"skeleton {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except pickle.UnpicklingError as exc:
        from skeleton.core.safeload import CorruptPickleError, UnsafePickleError

        if not isinstance(exc, UnsafePickleError | CorruptPickleError):
            raise
        # refused (nothing of it ran): 2; not a readable pickle: 1
        print(f"skeleton {args.command}: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UnsafePickleError) else 1
    except ModuleNotFoundError as exc:
        message = missing_extra(args.command, exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 2
    except BrokenPipeError:  # `skeleton info x.pkl | head`: the reader left, not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
        return 1
    except MemoryError:
        print(f"skeleton {args.command}: error: out of memory", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
