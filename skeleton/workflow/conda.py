"""envs/<name>.yaml and envs/<name>.post-deploy.sh of a recipe (skeleton.workflow.envs), for
Snakemake's --use-conda: `skeleton make-env NAME --write-conda envs` writes them; a test checks
the committed files are what this writes."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from skeleton.core.files import atomic_write
from skeleton.workflow.envs import RECIPES, project_name

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
    compiled_names = {project_name(req) for req in compiled}
    conda, pip, later = [f"python={recipe.python}", "pip"], [], []
    for step in recipe.steps:
        args = [a for a in step.args if a not in compiled]
        if step.conda:
            conda += [a for a in args if a != "pip"]
        elif "--no-deps" in args:
            later.append("pip install " + shlex.join(args))
        else:
            pip += args
    pins = shlex.join(c for c in recipe.constraints if project_name(c) not in compiled_names)
    compile_lines = [
        " ".join(f"{k}={v}" for k, v in env)
        + f" pip install --no-build-isolation {shlex.quote(req)} {pins}"
        for req, env in recipe.compiled
    ]
    document = {
        "name": f"skeleton-{name}",
        "channels": ["conda-forge", "nodefaults"],
        "dependencies": [*conda, {"pip": pip}],
    }
    header = [
        CONDA_HEADER.format(name=name).rstrip("\n"),
        f"# The {name} env; {name}.post-deploy.sh (run by Snakemake in the new env) adds"
        " what needs pip options.",
    ]
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
        f"{name}.yaml": "\n".join(header) + "\n" + _yaml(document),
        f"{name}.post-deploy.sh": "\n".join(script) + "\n",
    }


def write_conda_files(name: str, folder: str | os.PathLike[str]) -> list[Path]:
    out = []
    for file, text in conda_files(name).items():
        path = Path(folder) / file
        with atomic_write(path, "w", encoding="utf-8") as f:
            f.write(text)
        if file.endswith(".sh"):
            path.chmod(0o755)  # Snakemake runs it
        out.append(path)
    return out


def _yaml(document: dict) -> str:
    """The conda file's YAML: block style, a list item indented under its key, and a string
    double-quoted where YAML (or a reader's eye) could take it for more than a string."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            return super().increase_indent(flow, False)

    def string(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
        style = '"' if any(c in text for c in "<>,*:#") else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)

    Dumper.add_representer(str, string)
    return yaml.dump(document, Dumper=Dumper, sort_keys=False, default_flow_style=False)
