#!/usr/bin/env bash
# GENERATED from skeleton/workflow/envs.py (recipe pose) by
# `skeleton make-env pose --write-conda envs`: edit the recipe there, not this file.
# Run by Snakemake inside the new env (envs/pose.yaml): the steps needing pip options.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# compiled against the torch installed from the conda file (mmcv: ~12 min on 2 cores)
MMCV_WITH_OPS=1 pip install --no-build-isolation mmcv==2.1.0 torch==2.1.2 torchvision==0.16.2 'numpy<2' 'opencv-python<4.11' 'opencv-python-headless<4.11'
pip install --no-deps mmpose==1.3.2
pip install --no-deps --no-build-isolation -e "$here/.."
