"""Stand-in for mmcv's compiled `mmcv._ext`, for benchmarking on a machine without it.

Only for bench/pose.py on a GPU machine whose torch has no mmcv 2.1.0 build and no time to
compile one (mmcv's CUDA ops take many minutes to build): copy this file to
`<site-packages>/mmcv/_ext.py` over a pure-Python mmcv (built with MMCV_WITH_OPS=0). The two
ops Faster R-CNN R50-FPN uses at inference run on torchvision's kernels, which implement the
same definitions (NMS with offset 0; RoIAlign average pooling, `aligned=True` meaning the half
pixel shift, adaptive sampling for sampling_ratio 0); every other op raises when called.
Never installed by the project's environments: `skeleton make-env pose` compiles real mmcv.
"""

from __future__ import annotations

import torch
import torchvision


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float, offset: int = 0):
    if offset != 0:
        raise NotImplementedError("nms with offset 1 (mmcv legacy mode)")
    return torchvision.ops.nms(boxes.float(), scores.float(), float(iou_threshold))


def roi_align_forward(
    input: torch.Tensor,  # noqa: A002 - mmcv's keyword names
    rois: torch.Tensor,
    output: torch.Tensor,
    argmax_y: torch.Tensor,
    argmax_x: torch.Tensor,
    aligned_height: int,
    aligned_width: int,
    spatial_scale: float,
    sampling_ratio: int,
    pool_mode: int,
    aligned: bool,
) -> None:
    if pool_mode != 1:
        raise NotImplementedError("roi_align with max pooling")
    pooled = torchvision.ops.roi_align(
        input.float(),
        rois.float(),
        (aligned_height, aligned_width),
        spatial_scale=spatial_scale,
        sampling_ratio=sampling_ratio,
        aligned=aligned,
    )
    output.copy_(pooled)


def __getattr__(name: str):
    """mmcv.ops checks at import that every op exists; the others fail only when called."""
    if name.startswith("__"):
        raise AttributeError(name)

    def missing(*args, **kwargs):
        raise NotImplementedError(f"mmcv op {name} is not available in the torchvision stand-in")

    return missing
