"""Train a few iterations of an MMAction2 1.2.0 skeleton config on one of our pickles.

Runs with the consumer venv's python (`bash .ci/mmaction-env.sh` prints it):

    PY=$(bash .ci/mmaction-env.sh)
    $PY tests/consumers/mmaction_train.py \\
        stgcnpp/stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py \\
        --ann-file results/ntu60/ntu60_3d.pkl --iters 4 --batch-size 2

The config is the one the mmaction2 wheel ships (mmaction/.mim/configs/skeleton/<CONFIG>), read
by mmengine's Config; only what a CPU test must change is changed, and every change is listed in
the summary: the annotation file (and data_prefix, box_thr, valid_ratio where given), batch
size, no worker processes, clip length, a few iterations (IterBasedTrainLoop) ending in one
validation pass (the config's ValLoop, val_dataloader and val_evaluator), no checkpoints,
`load_from` none (pretrained weights are downloads) and the learning rate scaled to the batch
by mmengine's `auto_scale_lr` with the config's base_batch_size (8 GPUs x its batch where the
config has none). The model, its head's class count, the
pipelines and the optimizer are the config's. mmengine's Runner builds everything from the
registry and trains.

Prints a JSON summary as the last line on stdout (and to --out): per-iteration loss, the first input's shape, how far the
weights moved, the validation metrics and the sample counts; exit status 1 when training or
validation raised.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any


def mim_config(name: str) -> Path:
    import mmaction

    root = Path(mmaction.__file__).parent / ".mim" / "configs" / "skeleton"
    path = root / name
    if not path.is_file():
        raise SystemExit(f"no config {name} under {root}")
    return path


def datasets(loader: dict[str, Any]):
    """The PoseDataset dicts of a dataloader config (inside RepeatDataset wrappers)."""
    ds = loader["dataset"]
    while "dataset" in ds:
        ds = ds["dataset"]
    yield ds


def configure(cfg, args: argparse.Namespace, work_dir: str) -> list[str]:
    """Point `cfg` at our files and shrink it for a CPU; returns the changes made."""
    changes = [f"ann_file={args.ann_file}"]
    # the configs' names say their batch: 8 GPUs x N samples (e.g. 8xb16)
    shipped_batch = 8 * cfg.train_dataloader.batch_size
    for key in ("train_dataloader", "val_dataloader"):
        loader = cfg[key]
        loader.update(batch_size=args.batch_size, num_workers=0, persistent_workers=False)
        for ds in datasets(loader):
            ds["ann_file"] = args.ann_file
            if args.skeleton_prefix:
                ds["data_prefix"] = dict(skeleton=args.skeleton_prefix)
            if args.box_thr is not None:
                ds["box_thr"] = args.box_thr
            if args.valid_ratio is not None:
                ds["valid_ratio"] = args.valid_ratio
            for step in ds["pipeline"]:
                if step["type"] == "UniformSampleFrames" and args.clip_len:
                    step["clip_len"] = args.clip_len
            if key == "val_dataloader" and args.val_samples:
                ds["indices"] = args.val_samples  # mmengine BaseDataset: the first N samples
        split = next(datasets(loader)).get("split")
        changes.append(f"{key}: split {split}, batch {args.batch_size}, 0 workers")
    if args.val_samples:
        changes.append(f"validation on the first {args.val_samples} samples")
    if args.skeleton_prefix:
        changes.append(f"data_prefix=dict(skeleton={args.skeleton_prefix})")
    if args.box_thr is not None or args.valid_ratio is not None:
        changes.append(f"box_thr={args.box_thr}, valid_ratio={args.valid_ratio}")
    if args.clip_len:
        changes.append(f"UniformSampleFrames clip_len={args.clip_len}")
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=args.iters, val_interval=args.iters)
    cfg.param_scheduler = []  # the configs' schedules count epochs of the full dataset
    cfg.log_processor = dict(type="LogProcessor", window_size=1, by_epoch=False)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type="LoggerHook", interval=1)
    changes.append(f"IterBasedTrainLoop {args.iters} iters + 1 validation, no scheduler, no ckpt")
    if cfg.get("load_from"):
        changes.append(f"load_from {cfg.load_from} -> None (no download)")
    cfg.load_from = None
    # linear lr scaling to our batch, by the config's auto_scale_lr (or its 8 x batch when absent)
    cfg.auto_scale_lr = {"base_batch_size": shipped_batch, **cfg.get("auto_scale_lr", {})}
    cfg.auto_scale_lr.enable = True
    base = cfg.auto_scale_lr.base_batch_size
    changes.append(f"lr scaled by batch {args.batch_size} / base_batch_size {base}")
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=args.seed)
    cfg.launcher = "none"
    cfg.env_cfg.dist_cfg = dict(backend="gloo")
    return changes


def kept_skeletons(dataset) -> int:
    """Skeletons PoseDataset keeps by box score (`anno_inds`, set when valid_ratio > 0)."""
    infos = (dataset.get_data_info(i) for i in range(len(dataset)))  # data_list is serialized
    return sum(int(info["anno_inds"].sum()) for info in infos if "anno_inds" in info)


def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    torch.set_num_threads(args.threads)
    cfg = Config.fromfile(str(mim_config(args.config)))
    work_dir = args.work_dir or tempfile.mkdtemp(prefix="mmaction-train-")
    changes = configure(cfg, args, work_dir)
    record: dict[str, Any] = {"losses": [], "metrics": None, "input_shape": None}

    class Record(Hook):
        priority = "LOWEST"

        def before_train(self, runner) -> None:  # after the weights' initialisation
            record["before"] = {n: p.detach().clone() for n, p in runner.model.named_parameters()}

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
            if record["input_shape"] is None:
                record["input_shape"] = list(data_batch["inputs"][0].shape)
            record["losses"].append(outputs["loss"].item())

        def after_val_epoch(self, runner, metrics=None) -> None:
            record["metrics"] = {k: float(v) for k, v in (metrics or {}).items()}

    runner = Runner.from_cfg(cfg)
    runner.register_hook(Record())
    start = time.perf_counter()
    runner.train()
    seconds = time.perf_counter() - start
    before = record.pop("before")
    moved = {
        n: float((p.detach() - before[n]).abs().max()) for n, p in runner.model.named_parameters()
    }
    head = cfg.model.cls_head
    train_set = runner.train_dataloader.dataset
    return {
        "config": args.config,
        "changes": changes,
        # the split's samples as PoseDataset kept them, inside the config's RepeatDataset
        "train_samples": len(getattr(train_set, "dataset", train_set)),
        "train_repeat": getattr(train_set, "times", 1),
        # K400 with valid_ratio > 0: skeletons PoseDataset keeps (box_score >= box_thr)
        "train_skeletons_kept": kept_skeletons(getattr(train_set, "dataset", train_set)),
        "val_samples": len(runner.val_dataloader.dataset),
        "num_classes": head.num_classes,
        **record,
        "params": len(moved),
        "params_moved": sum(v > 0 for v in moved.values()),
        "max_change": max(moved.values()),
        "finite": all(math.isfinite(v) for v in record["losses"])
        and all(torch.isfinite(p).all() for p in runner.model.parameters()),
        "lr": runner.optim_wrapper.get_lr()["lr"][0],
        "seconds": round(seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("config", help="config under mmaction/.mim/configs/skeleton/, e.g. stgcn/...py")
    ap.add_argument("--ann-file", required=True, help="our annotation pickle")
    ap.add_argument("--skeleton-prefix", help="data_prefix=dict(skeleton=DIR): per-video kpfiles")
    ap.add_argument("--box-thr", type=float, help="PoseDataset box_thr (K400)")
    ap.add_argument("--valid-ratio", type=float, help="PoseDataset valid_ratio (K400)")
    ap.add_argument("--iters", type=int, default=3, help="training iterations")
    ap.add_argument("--batch-size", type=int, default=2, help="samples per batch")
    ap.add_argument("--clip-len", type=int, help="UniformSampleFrames clip_len (config's if unset)")
    ap.add_argument("--val-samples", type=int, help="validate on the first N samples (default all)")
    ap.add_argument("--out", help="write the JSON summary here too (mmengine logs to stdout)")
    ap.add_argument("--seed", type=int, default=0, help="mmengine randomness seed")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--work-dir", help="mmengine work_dir (default: a temporary folder)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    try:
        summary = {"ok": True, **train(args)}
    except Exception as exc:  # report, as JSON, whatever MMAction2 raised
        traceback.print_exc()
        summary = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    text = json.dumps(summary)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
