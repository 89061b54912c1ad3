"""The README's and the config files' example commands work as copied.

Two mistakes a copied command makes silently or with a traceback: a target after `--config` /
`--configfile` (both take several values, so Snakemake reads the target as one more config), and
a command that runs jobs without `--cores` (or a profile that sets it).
"""

from __future__ import annotations

import re
import shlex

import pytest
from conftest import REPO

SOURCES = ["README.md", "config/config.yaml", "config/demo.yaml", "config/README.md"]
# options that only look at the workflow: they need no --cores
NO_JOBS = ("-n", "--dry-run", "--lint", "--report", "--unlock", "--list-changes")
MANY_VALUES = ("--config", "--configfile")


def rule_names() -> set[str]:
    names = set()
    for path in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        names |= set(re.findall(r"^(?:rule|checkpoint) (\w+):", path.read_text(), re.M))
    return names


def example_commands() -> list[tuple[str, str]]:
    found = []
    for name in SOURCES:
        for line in (REPO / name).read_text().splitlines():
            for match in re.finditer(r"(?:^|`|#\s+|\s{4})(snakemake [^`\n]*)", line):
                command = match.group(1).split("  #")[0].strip()
                found.append((name, command))
    return found


def test_the_examples_are_found():
    commands = [c for _, c in example_commands()]
    assert len(commands) > 15 and any("--configfile my.yaml" in c for c in commands)


@pytest.mark.parametrize(("source", "command"), example_commands(), ids=lambda x: str(x)[:60])
def test_example_command_works_as_copied(source, command):
    try:
        words = shlex.split(command)
    except ValueError:  # an inline fragment cut by the Markdown (e.g. a quote in prose)
        pytest.skip("not a whole command")
    targets = rule_names() | {"TARGET", "<target>"}
    after_many = False
    for word in words[1:]:
        if word in MANY_VALUES:
            after_many = True
        elif word.startswith("-"):
            after_many = False
        elif after_many and word in targets:
            pytest.fail(f"{source}: `{command}`: target {word} after --config/--configfile")
    if not any(w in NO_JOBS or w.startswith("--report") for w in words) and len(words) > 2:
        assert "--cores" in words or "--profile" in words, f"{source}: `{command}`: no --cores"
