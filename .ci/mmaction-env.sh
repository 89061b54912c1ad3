#!/usr/bin/env bash
# Build, or reuse, the MMAction2 1.2.0 consumer venv used by tests/test_mmaction.py.
#
#   bash .ci/mmaction-env.sh          # prints the venv's python on stdout (logs go to stderr)
#
# The venv lives outside the clone, at $SKELETON_MMACTION_VENV or
# ${SKELETON_CACHE:-$HOME/.cache/skeleton}/venv-mmaction-<hash of the requirement list>, so
# every clone and CI run on a machine with the same list shares it. It is reused when its marker
# file holds exactly the requirement list (tests/consumers/mmaction_recipe.py, MMACTION) and
# `import mmaction.datasets, mmaction.models` works; otherwise it is rebuilt from scratch. pip's
# own cache is left on, so a rebuild on the same machine downloads nothing.
#
# Nothing here compiles: torch is the CPU build, mmcv-lite has no ops, and mmaction2 is installed
# with --no-deps because its declared deps (decord, opencv-contrib-python, ...) are only needed
# for video decoding. `import mmaction.datasets` needs scipy on top of mmengine; `import
# mmaction.models` (training through mmengine's Runner) needs einops too.
#
# Repair of the upstream wheel: mmaction2 1.2.0 on PyPI (wheel and sdist alike) lacks
# mmaction/models/localizers/drn/ (the source folder has no __init__.py, so packaging skipped
# it), yet mmaction/models/localizers/__init__.py imports DRN from it, so `import mmaction.models`
# fails (open-mmlab/mmaction2#2714; the fix, an __init__.py, is PR #2721, unreleased). The
# sources cannot be restored from a registry, so the build drops that one import and 'DRN' from
# __all__, the workaround given in #2714 (DRN is a video grounding localizer, no skeleton model
# uses it). The edit is checked: the build fails when the file does not read as expected.
#
# Environment:
#   SKELETON_CACHE          cache root (default ~/.cache/skeleton)
#   SKELETON_MMACTION_VENV  venv path (default $SKELETON_CACHE/venv-mmaction-<spec hash>)
#   SKELETON_MMACTION_PYTHON  interpreter to build it with (default python3, must be >= 3.10)
#   SKELETON_TORCH_INDEX    extra index for the torch CPU wheel; default: none when a local
#                           torch-<version>+cpu wheel is in pip's find-links, else the PyTorch CPU index
set -euo pipefail

# The requirement list (TORCH_REQ, BASE_REQS, NO_DEPS_REQ) is written once, in
# tests/consumers/mmaction_recipe.py (MMACTION); changing it rebuilds the venv (it is the
# marker's content).
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
spec_vars="$(python3 "$repo/tests/consumers/mmaction_recipe.py" mmaction)"
eval "$spec_vars"
PYTORCH_CPU_INDEX="https://download.pytorch.org/whl/cpu"

cache="${SKELETON_CACHE:-$HOME/.cache/skeleton}"
spec="$TORCH_REQ ${BASE_REQS[*]} $NO_DEPS_REQ (no-deps, DRN import dropped)"
# One venv per requirement list: clones of different versions on one machine never rebuild
# each other's venv.
spec_id="$(printf '%s' "$spec" | sha256sum | cut -c1-12)"
venv="${SKELETON_MMACTION_VENV:-$cache/venv-mmaction-$spec_id}"
python="${SKELETON_MMACTION_PYTHON:-python3}"
marker="$venv/.skeleton-mmaction-complete"

log() { echo "mmaction-env: $*" >&2; }

venv_ok() {
    [[ -f "$marker" && "$(cat "$marker")" == "$spec" ]] &&
        "$venv/bin/python" -c 'import mmaction.datasets, mmaction.models' >/dev/null 2>&1
}

# A local torch CPU wheel reachable through pip's find-links (e.g. /opt/wheels)?
local_torch_wheel() {
    local dirs dir
    dirs="$("$venv/bin/python" -m pip config list 2>/dev/null | sed -n "s/^.*find-links='\(.*\)'$/\1/p")"
    for dir in ${PIP_FIND_LINKS:-} $dirs; do
        dir="${dir#file://}"
        compgen -G "$dir/torch-${TORCH_REQ#torch==}+cpu-*.whl" >/dev/null && return 0
    done
    return 1
}

mkdir -p "$(dirname "$venv")"
# One builder at a time per venv path (two test runs on one machine would otherwise collide).
if command -v flock >/dev/null; then
    exec 9>"$venv.lock"
    flock 9
fi

if venv_ok; then
    log "reusing $venv"
    echo "$venv/bin/python"
    exit 0
fi

"$python" -c 'import sys; assert sys.version_info >= (3, 10), sys.version' ||
    {
        log "$python is missing or older than 3.10"
        exit 1
    }

start=$SECONDS
log "building $venv ($spec)"
rm -rf "$venv"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off)

torch_opts=()
if [[ -n "${SKELETON_TORCH_INDEX:-}" ]]; then
    torch_opts=(--extra-index-url "$SKELETON_TORCH_INDEX")
elif ! local_torch_wheel; then
    # Without the CPU index PyPI would serve the CUDA build (gigabytes of nvidia wheels).
    torch_opts=(--extra-index-url "$PYTORCH_CPU_INDEX")
fi
"${pip[@]}" "${torch_opts[@]}" "$TORCH_REQ" >&2
"${pip[@]}" "$TORCH_REQ" "${BASE_REQS[@]}" >&2
"${pip[@]}" --no-deps "$NO_DEPS_REQ" >&2

# The wheel repair described above (open-mmlab/mmaction2#2714).
"$venv/bin/python" - >&2 <<'EOF'
import importlib.util
from pathlib import Path

pkg = Path(importlib.util.find_spec("mmaction").origin).parent / "models" / "localizers"
init = pkg / "__init__.py"
text = init.read_text()
drop_import, drop_name = "from .drn.drn import DRN\n", ", 'DRN'"
assert not (pkg / "drn").exists(), f"{pkg / 'drn'} exists: this wheel needs no repair"
assert text.count(drop_import) == 1 and text.count(drop_name) == 1, f"unexpected {init}"
init.write_text(text.replace(drop_import, "").replace(drop_name, ""))
print(f"mmaction-env: dropped the DRN import from {init} (mmaction2#2714)")
EOF

"$venv/bin/python" - >&2 <<'EOF'
import torch
from mmengine.registry import init_default_scope

import mmaction
import mmaction.datasets  # noqa: F401
import mmaction.models  # noqa: F401

init_default_scope("mmaction")
print(f"mmaction-env: torch {torch.__version__} (cuda {torch.version.cuda}), mmaction {mmaction.__version__}")
EOF
echo "$spec" >"$marker"
log "built in $((SECONDS - start)) s"
echo "$venv/bin/python"
