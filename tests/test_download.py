"""rules/download.smk and skeleton.release.releases: fetch targets run by real Snakemake against a
loopback HTTP server (URLs overridden through the config, as a mirror would be)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import REPO, run_snakemake
from loopback_http import serve

from skeleton.core.annotations import write_annotations
from skeleton.release.releases import (
    DEFAULT_RELEASES_YAML,
    load_releases,
    local_inputs,
    raw_downloads,
)

RULE_TARGETS = [
    "ntu60_2d",
    "ntu60_3d",
    "ntu120_2d",
    "ntu120_3d",
    "gym_2d",
    "ucf101_2d",
    "hmdb51_2d",
    "diving48_2d",
    "k400_2d",
]


def test_default_releases() -> None:
    releases = load_releases()
    assert set(RULE_TARGETS) | {"gym_gt_bboxes"} == set(releases)
    for name in RULE_TARGETS:
        assert releases[name].url == (
            f"https://download.openmmlab.com/mmaction/v1.0/skeleton/data/{name}.pkl"
        )
    ckpts = load_releases(section="checkpoints")
    prefixes = {name: c.expected_prefix for name, c in ckpts.items()}
    assert prefixes == {
        "faster_rcnn_r50_fpn_1x_coco_person": "d022e227",
        "hrnet_w32_coco_256x192": "c78dce93",
    }
    # Every release has a fetch_<name> rule.
    rules = (REPO / "rules" / "download.smk").read_text()
    for name in RULE_TARGETS:
        assert f"rule fetch_{name}:" in rules


def test_overrides_merge_per_field() -> None:
    releases = load_releases(
        DEFAULT_RELEASES_YAML,
        {"ntu60_3d": {"sha256": "ab" * 32}, "ntu60_2d": "file:///mirror/ntu60_2d.pkl"},
    )
    assert releases["ntu60_3d"].sha256 == "ab" * 32
    assert releases["ntu60_3d"].url.endswith("/ntu60_3d.pkl")
    assert releases["ntu60_3d"].kind == "3d"
    assert releases["ntu60_2d"].url == "file:///mirror/ntu60_2d.pkl"
    assert releases["ntu60_2d"].kind == "2d"
    with pytest.raises(ValueError, match="no url"):
        load_releases(DEFAULT_RELEASES_YAML, {"mine": {"kind": "3d"}})


def test_raw_inputs_given_as_urls() -> None:
    entries = [
        "/data/nturgb+d_skeletons",
        "https://example.org/dl/nturgbd_skeletons_s001_to_s017.zip",
        "file:///mnt/archives/nturgbd_skeletons_s018_to_s032.zip",
    ]
    assert raw_downloads(entries) == {
        "data/raw/ntu/nturgbd_skeletons_s001_to_s017.zip": entries[1],
        "data/raw/ntu/nturgbd_skeletons_s018_to_s032.zip": entries[2],
    }
    assert local_inputs(entries) == [
        "/data/nturgb+d_skeletons",
        "data/raw/ntu/nturgbd_skeletons_s001_to_s017.zip",
        "data/raw/ntu/nturgbd_skeletons_s018_to_s032.zip",
    ]
    with pytest.raises(ValueError, match="also used by"):
        raw_downloads(["http://a/x.zip", "http://b/x.zip"])


def _pickles(folder: Path) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    anns = [
        {
            "frame_dir": f"S001C001P001R001A00{i}",
            "label": i - 1,
            "keypoint": rng.normal(size=(1, 10 + i, 25, 3)).astype(np.float16),
            "total_frames": 10 + i,
        }
        for i in (1, 2, 3)
    ]
    split = {"xsub_train": [a["frame_dir"] for a in anns[:2]], "xsub_val": [anns[2]["frame_dir"]]}
    write_annotations(folder / "good.pkl", anns, split)
    anns[1]["total_frames"] = 99
    write_annotations(folder / "bad.pkl", anns, split)
    return {name: (folder / name).read_bytes() for name in ("good.pkl", "bad.pkl")}


def _snakemake(workdir: Path, config: dict, *targets: str) -> subprocess.CompletedProcess:
    # checked (and its defaults filled in) as rules/common.smk checks it, then the rules alone
    schema = REPO / "config/schema/config.schema.yaml"
    (workdir / "Snakefile").write_text(
        "from snakemake.utils import validate\n"
        f'validate(config, "{schema}")\n'
        f'include: "{REPO}/rules/download.smk"\n'
    )
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return run_snakemake(
        workdir,
        *targets,
        "--cores",
        "1",
        configfile="config.yaml",
        check=False,
        timeout=300,
        snakefile=None,
    )


@pytest.mark.slow
def test_fetch_targets_through_snakemake(tmp_path: Path) -> None:
    files = _pickles(tmp_path)
    ckpt = b"not really a checkpoint, but bytes with a known digest"
    prefix = hashlib.sha256(ckpt).hexdigest()[:8]
    files[f"det_20201216_175929-{prefix}.pth"] = ckpt
    files[f"pose-{prefix}_20200708.pth"] = ckpt
    files["wrong_20201216-0badf00d.pth"] = ckpt
    work = tmp_path / "work"
    work.mkdir()
    with serve(files) as (base, state):
        det = f"{base}/files/det_20201216_175929-{prefix}.pth"
        config = {
            "releases": {
                "ntu60_3d": {"url": f"{base}/cut/good.pkl"},  # resumed after a cut
                "ntu60_2d": {"url": f"{base}/files/bad.pkl"},
                "ntu120_3d": {"url": f"{base}/files/absent.pkl"},
            },
            "checkpoints": {
                "faster_rcnn_r50_fpn_1x_coco_person": det,
                "hrnet_w32_coco_256x192": f"{base}/files/pose-{prefix}_20200708.pth",
            },
        }
        config["ntu"] = {"skeletons": [f"{base}/flaky/good.pkl"]}  # a raw input given as a URL
        raw = "data/raw/ntu/good.pkl"
        ok = _snakemake(work, config, "fetch_ntu60_3d", "fetch_pose_checkpoints", raw)
        assert ok.returncode == 0, ok.stderr[-3000:]
        assert (work / "data/released/ntu60_3d.pkl").read_bytes() == files["good.pkl"]
        report = (work / "data/released/ntu60_3d.check.txt").read_text()
        assert "valid: 3d combined pickle; 3 annotations" in report
        assert f"sha256: {hashlib.sha256(files['good.pkl']).hexdigest()}" in report
        assert "annotations: 3" in report  # skeleton info's description
        assert (work / "data/checkpoints/hrnet_w32_coco_256x192.pth").read_bytes() == ckpt
        assert (work / "benchmarks/download/ntu60_3d.tsv").exists()
        assert (work / raw).read_bytes() == files["good.pkl"]  # after two 500s
        assert ("/cut/good.pkl", None) in state.requests
        assert any(p == "/cut/good.pkl" and r for p, r in state.requests)  # a Range resume

        # Three failures in one run (--keep-going): invalid pickle, 404, wrong name hash.
        config["checkpoints"]["hrnet_w32_coco_256x192"] = (
            f"{base}/files/wrong_20201216-0badf00d.pth"
        )
        (work / "data/checkpoints/hrnet_w32_coco_256x192.pth").unlink()
        targets = ("fetch_ntu60_2d", "fetch_ntu120_3d", "fetch_pose_checkpoints", "--keep-going")
        failed = _snakemake(work, config, *targets)
        assert failed.returncode != 0
        log = (work / "logs/download/ntu60_2d.check.log").read_text()
        assert "T=12 but total_frames=99" in log
        assert not (work / "data/released/ntu60_2d.check.txt").exists()
        assert "HTTP 404" in (work / "logs/download/ntu120_3d.log").read_text()
        assert not (work / "data/released/ntu120_3d.pkl").exists()
        ckpt_log = (work / "logs/download/hrnet_w32_coco_256x192.log").read_text()
        assert "sha256 prefix mismatch" in ckpt_log
        assert not (work / "data/checkpoints/hrnet_w32_coco_256x192.pth").exists()

        n_requests = len(state.requests)
        config["download"] = {"offline": True}
        offline = _snakemake(work, config, "fetch_ntu120_3d")
        assert offline.returncode != 0
        assert "offline" in (work / "logs/download/ntu120_3d.log").read_text()
        assert len(state.requests) == n_requests
