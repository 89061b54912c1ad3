"""`skeleton make-env pose [DIR]`: the pose environment as a venv, for users without conda."""

from __future__ import annotations

import argparse

DEFAULT_DIRS = {"pose": ".venv-pose"}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "make-env",
        help="create an environment (venv) for a kind of rule, e.g. the pose env",
        description=(
            "Create or update a virtual environment equivalent to envs/<NAME>.yaml, with this "
            "project installed in it: from a clone, as an editable link (or a copy with "
            "--no-editable); from an installed package (pip install skeleton), the same version, "
            "as a wheel made from its installed files. Idempotent: an up-to-date env is left "
            "alone. Compiled wheels (mmcv) are kept in $SKELETON_CACHE/wheels (default "
            "~/.cache/skeleton)."
        ),
    )
    p.add_argument(
        "name",
        choices=sorted(DEFAULT_DIRS),
        metavar="NAME",
        help="which environment: pose (torch, mmcv, mmdet, mmpose, ultralytics)",
    )
    p.add_argument(
        "dir",
        nargs="?",
        metavar="DIR",
        help="where to create it (default: .venv-pose for pose, in the current folder)",
    )
    p.add_argument(
        "--python",
        metavar="PYTHON",
        help="base interpreter; the pose env needs Python 3.11 (default: this interpreter if "
        "it is 3.11, else python3.11 on PATH)",
    )
    p.add_argument(
        "--no-editable",
        action="store_true",
        help="from a clone: install a copy of this project, not a link",
    )
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    p.add_argument(
        "--write-conda",
        metavar="DIR",
        help="write the recipe as DIR/<NAME>.yaml + <NAME>.post-deploy.sh (Snakemake --use-conda) "
        "and build nothing",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from skeleton.core.errors import UsageError
    from skeleton.workflow.conda import write_conda_files
    from skeleton.workflow.venv import REPO_ROOT, EnvError, is_checkout, make_env

    if args.write_conda:
        if not is_checkout(REPO_ROOT):  # the post-deploy script installs the clone it sits in
            raise UsageError("--write-conda writes a clone's envs/ files: run it in a clone")
        for path in write_conda_files(args.name, args.write_conda):
            print(path)
        return 0
    try:
        python = make_env(
            args.name,
            args.dir or DEFAULT_DIRS[args.name],
            python=args.python,
            editable=not args.no_editable,
            force=args.force,
            log=lambda line: print(line, flush=True),
        )
    except EnvError as exc:
        raise UsageError(str(exc)) from None
    print(python)
    return 0
