#!/usr/bin/env bash
# Run by Snakemake inside the new pose env (envs/pose.yaml): the steps a conda file cannot express.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pins=(torch==2.1.2 torchvision==0.16.2 'numpy<2' 'opencv-python<4.11')
# mmcv 2.1.0 compiles its ops (nms, RoIAlign) against the torch installed above (~12 min on 2 cores)
MMCV_WITH_OPS=1 pip install --no-build-isolation mmcv==2.1.0 "${pins[@]}"
pip install --no-deps mmpose==1.3.2
pip install --no-deps --no-build-isolation -e "$here/.."
