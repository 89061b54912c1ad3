"""The `skeleton` command line: one subcommand per pipeline stage.

Each module listed in COMMAND_MODULES exposes `register(subparsers)`, which adds its parser and
sets `func` (args -> exit code). Modules import their heavy dependencies (torch, cv2) inside
`func`, so `skeleton --help` and the 3D path stay light.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import pickle
import sys

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


class UsageError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


class InputError(Exception):
    """An input whose content cannot be used (e.g. not a valid annotation pickle): printed as
    one line, exit code 1."""


@functools.lru_cache(maxsize=1)
def build_parser() -> argparse.ArgumentParser:
    from skeleton import __version__

    parser = argparse.ArgumentParser(
        prog="skeleton",
        description="Build skeleton datasets (NTU RGB+D, video datasets) for MMAction2 / PYSKL.",
    )
    parser.add_argument("--version", action="version", version=f"skeleton {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"skeleton {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"skeleton {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except pickle.UnpicklingError as exc:
        from skeleton.safeload import CorruptPickleError, UnsafePickleError

        if not isinstance(exc, UnsafePickleError | CorruptPickleError):
            raise
        # refused (nothing of it ran): 2; not a readable pickle: 1
        print(f"skeleton {args.command}: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UnsafePickleError) else 1
    except MemoryError:
        print(f"skeleton {args.command}: error: out of memory", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
