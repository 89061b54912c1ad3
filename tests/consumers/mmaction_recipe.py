"""The MMAction2 1.2.0 consumer venv's recipe (tests/mmaction_consumer.py): a venv that loads and
trains on our pickles with MMAction2's code only. .ci/mmaction-env.sh builds it, reading the
requirement list from here:

    python3 tests/consumers/mmaction_recipe.py      # prints TORCH_REQ, BASE_REQS, NO_DEPS_REQ

Plain Python (the standard library only): the script runs before any venv exists.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class ConsumerRecipe:
    """A venv that loads and trains on our pickles with another project's code only."""

    torch: str
    requirements: tuple[str, ...]
    no_deps: str  # installed last with --no-deps


# MMAction2 1.2.0 as a consumer (tests/mmaction_consumer.py; .ci/mmaction-env.sh builds it).
# Versions verified to work together with mmaction2 1.2.0. numpy 1.x: mmaction2 1.2.0 predates
# numpy 2, whose removed aliases its PoseC3D pipeline still uses (PoseCompact: np.Inf); so
# opencv-python from before its numpy>=2 requirement. Changing this list rebuilds the venv.
MMACTION = ConsumerRecipe(
    torch="torch==2.13.0",
    requirements=(
        "mmcv-lite==2.1.0",
        "mmengine==0.10.7",
        "importlib-metadata==10.2.0",
        "numpy==1.26.4",
        "opencv-python==4.10.0.84",
        "scipy==1.17.1",
        "einops==0.8.2",
    ),
    no_deps="mmaction2==1.2.0",
)
CONSUMERS: dict[str, ConsumerRecipe] = {"mmaction": MMACTION}


def shell_spec(name: str) -> str:
    """Bash assignments of a consumer recipe: TORCH_REQ, BASE_REQS (an array), NO_DEPS_REQ."""
    r = CONSUMERS[name]
    reqs = " ".join(shlex.quote(x) for x in r.requirements)
    torch, no_deps = shlex.quote(r.torch), shlex.quote(r.no_deps)
    return f"TORCH_REQ={torch}\nBASE_REQS=({reqs})\nNO_DEPS_REQ={no_deps}\n"


if __name__ == "__main__":  # python3 tests/consumers/mmaction_recipe.py [mmaction]
    name = sys.argv[1] if len(sys.argv) > 1 else "mmaction"
    if name not in CONSUMERS or len(sys.argv) > 2:
        sys.exit(f"usage: {sys.argv[0]} [{','.join(CONSUMERS)}]")
    sys.stdout.write(shell_spec(name))
