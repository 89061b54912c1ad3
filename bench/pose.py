"""Frames/s of batched pose inference against frame-by-frame inference, same backend, same run.

Run with the pose environment's python (`skeleton make-env pose`):

    .venv-pose/bin/python bench/pose.py --backend mmpose --checkpoint none --frames 8
    .venv-pose/bin/python bench/pose.py --backend yolo --device cuda --frames 96 --batch 32

The reference is what the public extraction scripts do: one detector call per frame, then one
pose call per frame. The batched run gives the detector `--batch` frames per call and the pose
model all boxes of those frames in one call. Both go through the same loaded backend on the same
decoded frames (decoding is not timed), after a warm-up call of each kind. With random weights
(`--checkpoint none`, the mmpose default here: the OpenMMLab checkpoints are not reachable from
every machine) the detector's score threshold is 0 so every frame carries exactly `--max-boxes`
boxes, as many as an NTU two-person sample.

Measured 2026-11-25, random weights, 96 frames of S001C001P001R001A001_rgb.avi (1920x1080),
2 boxes per frame, best of 2 passes, on one H100 (torch 2.11; mmcv's nms/RoIAlign taken from
torchvision by bench/mmcv_ext_torchvision.py, mmcv having no build for that torch there):
    --batch 16           frame-by-frame  9.4 frames/s, batched 43.8 frames/s (4.7x)
    --batch 32 --fp16    frame-by-frame  7.3 frames/s, batched 49.0 frames/s (6.7x)
    yolo --batch 32      frame-by-frame 66.7 frames/s, batched 237 frames/s  (3.6x)
On the 2-core CPU (torch 2.1.2, real mmcv 2.1.0), 4 frames, batch 4: frame-by-frame 0.13,
batched 0.12 frames/s (0.9x): batching does not help on a CPU, the convolutions fill its cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VIDEO = REPO.parent / "shared" / "video" / "S001C001P001R001A001_rgb.avi"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=("mmpose", "yolo"), default="mmpose")
    p.add_argument("--video", default=str(VIDEO))
    p.add_argument("--device", default="cpu")
    p.add_argument("--frames", type=int, default=8, help="frames timed per mode")
    p.add_argument("--batch", type=int, default=8, help="frames per batched call")
    p.add_argument("--repeat", type=int, default=1, help="timed passes per mode (best is kept)")
    p.add_argument(
        "--checkpoint", default=None, help="'none' (random weights) or 'default' (mmpose: none)"
    )
    p.add_argument("--max-boxes", type=int, default=2, help="mmpose: boxes per frame")
    p.add_argument("--fp16", action="store_true", help="half precision on cuda")
    p.add_argument("--preprocess-workers", type=int, help="mmpose: CPU threads for input pipelines")
    p.add_argument("--json", help="also write the figures to this file")
    return p.parse_args(argv)


def read_frames(path: str, n: int) -> list:
    from skeleton.pose.video import iter_frame_batches

    frames = []
    for batch in iter_frame_batches(path, n):
        frames.extend(batch)
        break
    if not frames:
        raise SystemExit(f"{path}: no frames")
    while len(frames) < n:  # a short video is looped to the requested count
        frames.extend(frames[: n - len(frames)])
    return frames[:n]


def timed(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from skeleton.pose.base import get_backend, run_backend

    checkpoint = args.checkpoint or ("none" if args.backend == "mmpose" else "default")
    options = dict(device=args.device, checkpoint=checkpoint, fp16=args.fp16)
    if args.backend == "mmpose":
        options.update(max_boxes_per_frame=args.max_boxes)
        if args.preprocess_workers is not None:
            options.update(preprocess_workers=args.preprocess_workers)
        if checkpoint == "none":
            options.update(score_threshold=0.0)
    frames = read_frames(args.video, args.frames)
    t0 = time.perf_counter()
    backend = get_backend(args.backend, **options)
    load_s = time.perf_counter() - t0
    chunks = [frames[i : i + args.batch] for i in range(0, len(frames), args.batch)]

    def frame_by_frame():
        return [r for frame in frames for r in run_backend(backend, [frame])]

    def batched():
        return [r for chunk in chunks for r in run_backend(backend, chunk)]

    run_backend(backend, frames[:1])  # warm-up: lazy inits, cudnn autotuning
    run_backend(backend, chunks[0])
    single_s, single = timed(frame_by_frame, args.repeat)
    batch_s, batch = timed(batched, args.repeat)
    boxes_single = statistics.mean(len(b) for b, _, _ in single)
    boxes_batch = statistics.mean(len(b) for b, _, _ in batch)

    import torch

    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None
    result = {
        "backend": args.backend,
        "checkpoint": checkpoint,
        "device": args.device,
        "device_name": device_name or platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "fp16": args.fp16,
        "frames": len(frames),
        "frame_shape": list(frames[0].shape),
        "batch": args.batch,
        "load_s": round(load_s, 2),
        "boxes_per_frame": [boxes_single, boxes_batch],
        "frame_by_frame_fps": len(frames) / single_s,
        "batched_fps": len(frames) / batch_s,
        "speedup": single_s / batch_s,
        "modules": backend.describe().get("modules"),
    }
    print(
        f"{args.backend} on {result['device_name']} ({args.device}, fp16={args.fp16}), "
        f"{len(frames)} frames {frames[0].shape[1]}x{frames[0].shape[0]}, "
        f"{boxes_batch:.1f} boxes/frame, checkpoint={checkpoint}"
    )
    print(f"  frame-by-frame : {result['frame_by_frame_fps']:8.2f} frames/s")
    print(f"  batched ({args.batch:>3})  : {result['batched_fps']:8.2f} frames/s")
    print(f"  speedup        : {result['speedup']:8.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
