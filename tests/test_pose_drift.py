"""`skeleton pose-drift` between two model tags' pose shards, for every video source.

The shards are written by the pose stage's own code (`skeleton.pose.shard.pose_shard`) on
synthetic videos named as each source names its clips, in the folder layout of the workflow
(`results/pose/<tag>/<source>/shard_<k>.pkl`, with the rejects file and a resume folder beside
them). The two "models" are the trivial two-stage backend of test_pose_extract.py, the second
one moving every keypoint by a known offset, so the drift is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import run_skeleton, write_people_video

cv2 = pytest.importorskip("cv2")

from test_pose_extract import BlobBackend  # noqa: E402

from skeleton.pose.extract import ExtractOptions  # noqa: E402
from skeleton.pose.shard import pose_shard  # noqa: E402

# Clip names as each source's videos are named; NTU's carry their label, the others -1.
CLIPS = {
    "ntu": ["S001C001P001R001A001_rgb.avi", "S018C001P045R001A061_rgb.avi"],
    "ucf101": ["v_ApplyEyeMakeup_g01_c01.avi", "v_Archery_g08_c02.avi"],
    "hmdb51": [
        "April_09_brush_hair_u_nm_np1_ba_goo_0.avi",
        "Aerial_Kick_kick_f_cm_np1_ri_med_0.avi",
    ],
    "diving48": ["-mmq0PT-u8k_00155.mp4", "0vm5xeMlSr0_00000.mp4"],
    "gym": [
        "0LtLS9wROrk_E_002407_002435_A_0003_0005.mp4",
        "0LtLS9wROrk_E_002407_002435_A_0006_0008.mp4",
    ],
    "k400": ["---QUuC4vJs_000084_000094.mp4", "--6bJUbfpnQ_000017_000027.mp4"],
    "custom": ["my clip.v2.mp4", "kitchen/take 3.avi"],
}
SHIFT = 3.0  # pixels the second model moves every keypoint along x


class ShiftedBackend(BlobBackend):
    name = "shifted"

    def estimate(self, frames, boxes):
        return [(kp + np.float32([SHIFT, 0]), sc) for kp, sc in super().estimate(frames, boxes)]


def pose_shards(root: Path, source: str, backend: type, shard: int) -> None:
    videos = root / "videos"
    paths = []
    for name in CLIPS[source]:
        path = videos / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            write_people_video(path, 8, lambda t: [30 + t])
        paths.append(path)
    folder = root / "results/pose" / backend.name / source
    folder.mkdir(parents=True, exist_ok=True)
    options = ExtractOptions(postproc="tracks")  # the blobs are too small for mmaction2's boxes
    out = folder / f"shard_{shard}.pkl"
    work = folder / f"shard_{shard}.work"  # a resume folder left by a killed job
    n, rejects = pose_shard(
        paths, out, backend, options, work, folder / f"shard_{shard}.rejects.tsv"
    )
    assert n == len(paths) and not rejects


@pytest.mark.parametrize("source", sorted(CLIPS))
def test_drift_between_two_tags_of_every_source(tmp_path, source):
    # the two tags put the same videos in different shards: drift matches them by name
    pose_shards(tmp_path, source, BlobBackend, shard=0)
    pose_shards(tmp_path, source, ShiftedBackend, shard=7)
    p = run_skeleton("pose-drift", "blob", "shifted", "--out", "drift.tsv", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert f"{len(CLIPS[source])} shared video(s) (0 only in A, 0 only in B)" in p.stderr
    rows = [line.split("\t") for line in (tmp_path / "drift.tsv").read_text().splitlines()[1:]]
    assert len(rows) == 17
    assert all(float(mean) == pytest.approx(SHIFT, abs=0.01) for _, mean, *_ in rows)
