"""Config files that cost more than their size: YAML anchors repeated by aliases ("billion
laughs"), a node inside itself. The schema check refuses them in one line instead of walking and
printing every expanded value (Snakemake's validation error printed the whole config: over 60 s).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from skeleton.workflow.configcheck import (
    MAX_CONFIG_VALUES,
    ConfigError,
    check_config,
    config_sources,
    size_problem,
)

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config/schema/config.schema.yaml"


def laughs(levels: int, where: str = "ntu:\n  denoise: ") -> str:
    """Ten-fold aliases `levels` deep: 10**levels values from a few hundred bytes."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for k in range(1, levels):
        lines.append(f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 10) + "]")
    return "\n".join(lines) + f"\n{where}*l{levels - 1}\n"


def _validate(config: dict, schema_path: str) -> None:
    from snakemake.utils import validate

    validate(config, schema_path)


@pytest.mark.parametrize(
    "text, why",
    [
        (laughs(9), "expands to more than"),
        (laughs(9, "ntu:\n  datasets: "), "expands to more than"),
        ("a: &a [1, *a]\n", "nests deeper than"),
        ("a: &a {b: *a}\n", "nests deeper than"),
        ('s: &s "' + "x" * 100_000 + '"\nt: [' + ", ".join(["*s"] * 100) + "]\n", "expands"),
    ],
)
def test_exponential_or_recursive_config_refused_in_one_line(
    tmp_path: Path, text: str, why: str
) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    config = yaml.safe_load(path.read_text())
    with pytest.raises(ConfigError) as err:
        check_config(config, SCHEMA, _validate, config_sources([str(path)], [], {}, tmp_path))
    assert why in str(err.value) and "\n" not in str(err.value)


def test_real_configs_are_far_below_the_bound() -> None:
    for path in [REPO / "config/config.yaml", *sorted((REPO / "config").glob("*/*.yaml"))]:
        config = yaml.safe_load(path.read_text())
        assert size_problem(config) is None, path
    assert size_problem([0] * (MAX_CONFIG_VALUES // 2)) is None


def test_workflow_refuses_a_config_bomb_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(laughs(9))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(tmp_path), "-n", "ntu60", "--configfile", str(path)]  # fmt: skip
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    text = p.stdout + p.stderr
    assert p.returncode != 0 and "Traceback" not in text, text[-2000:]
    assert "the config is not checked: it expands to more than" in text
