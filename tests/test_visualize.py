"""Pictures: overlays, PoseC3D heatmap volumes, 3D plots; the report and visualize rules."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import (
    NTU_VIDEO,
    NTU_VIDEO_SKELETON,
    need_shared,
    run_skeleton,
    run_snakemake,
)

from skeleton.core.annotations import write_annotations
from skeleton.pictures.annotation import COCO_LIMBS
from skeleton.pictures.heatmaps import heatmap_geometry, heatmap_volume, pose_compact
from skeleton.pictures.render import pick_samples, render

T = 6


def anno_2d(t: int = T, img_shape=(240, 320), seed: int = 0) -> dict:
    """Two people standing side by side, swaying; scores in [0.5, 1]."""
    rng = np.random.default_rng(seed)
    h, w = img_shape
    # a rough standing COCO-17 pose in a unit box (x right, y down)
    base = np.array(
        [[.5, .1], [.47, .08], [.53, .08], [.44, .1], [.56, .1], [.38, .25], [.62, .25],
         [.33, .42], [.67, .42], [.3, .58], [.7, .58], [.42, .6], [.58, .6], [.41, .8],
         [.59, .8], [.4, .97], [.6, .97]]
    )  # fmt: skip
    kp = np.zeros((2, t, 17, 2), np.float32)
    for m, (x0, size) in enumerate(((0.1 * w, 0.8 * h), (0.55 * w, 0.7 * h))):
        for i in range(t):
            kp[m, i] = base * size + (x0 + 3 * np.sin(i), 0.1 * h)
    return {
        "frame_dir": "S001C001P001R001A023",
        "label": 22,
        "total_frames": t,
        "img_shape": img_shape,
        "original_shape": img_shape,
        "keypoint": kp,
        "keypoint_score": rng.uniform(0.5, 1.0, (2, t, 17)).astype(np.float32),
    }


def anno_3d(t: int = 3) -> dict:
    """One NTU-25 body about 3 m in front of the Kinect."""
    rng = np.random.default_rng(1)
    kp = np.zeros((2, t, 25, 3), np.float16)  # second person all zero, as pyskl keeps it
    body = np.stack([rng.uniform(-0.3, 0.3, 25), np.linspace(0.7, -0.8, 25), np.full(25, 3.0)], 1)
    for i in range(t):
        kp[0, i] = body + (0.01 * i, 0, 0)
    return {"frame_dir": "S001C001P001R001A001", "label": 0, "total_frames": t, "keypoint": kp}


def read_gif(path: Path) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]


def read_mp4(path: Path) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames


# ---- renders -------------------------------------------------------------------------------


def test_overlay_on_blank_canvas_gif(tmp_path):
    r = render(anno_2d(), "overlay", tmp_path / "o.gif")
    frames = read_gif(tmp_path / "o.gif")
    assert (r.frames, r.height, r.width) == (T, 240, 320)
    assert len(frames) == T and frames[0].shape == (240, 320, 3)
    # two person colours on black, plus the white label text
    assert all((f.sum(-1) > 0).mean() > 0.01 for f in frames)
    colors = {tuple(c) for c in frames[0].reshape(-1, 3)[frames[0].reshape(-1, 3).sum(1) > 300]}
    assert len(colors) > 3


def test_overlay_label_name(tmp_path):
    from skeleton.pictures.annotation import default_label_map, label_text

    assert label_text(anno_2d(), default_label_map("S001C001P001R001A023")) == "22: hand waving"
    assert label_text({"label": -1}, []) == "label unknown"


def test_overlay_3d_projected_blank_1080p(tmp_path):
    r = render(anno_3d(), "overlay", tmp_path / "o.mp4")
    frames = read_mp4(tmp_path / "o.mp4")
    assert (r.frames, r.height, r.width) == (3, 540, 960)  # 1920x1080 downscaled to 960 wide
    assert len(frames) == 3 and frames[0].shape == (540, 960, 3)
    # the projected body lands near the image centre (x ~ 0, 3 m away)
    body = np.argwhere(frames[1][60:].max(-1) > 100)
    assert len(body) and abs(body[:, 1].mean() - 480) < 120


def test_keypoint_heatmap_mp4_and_png(tmp_path):
    r = render(anno_2d(), "keypoint-heatmap", tmp_path / "k.mp4")
    frames = read_mp4(tmp_path / "k.mp4")
    assert (r.frames, r.height, r.width) == (T, 448, 448)
    assert len(frames) == T and frames[0].shape == (448, 448, 3)
    p = render(anno_2d(), "keypoint-heatmap", tmp_path / "k.png", frame=2)
    assert (p.frames, p.height, p.width) == (1, 448, 448)
    assert (tmp_path / "k.png").stat().st_size > 1000


def test_limb_heatmap_gif(tmp_path):
    r = render(anno_2d(), "limb-heatmap", tmp_path / "l.gif", heatmap_size=64)
    frames = read_gif(tmp_path / "l.gif")
    assert (r.frames, r.height, r.width) == (T, 512, 512) and len(frames) == T
    assert frames[0].std() > 10  # not a flat picture


def test_skeleton3d_gif_and_png(tmp_path):
    r = render(anno_3d(), "skeleton3d", tmp_path / "s.gif")
    frames = read_gif(tmp_path / "s.gif")
    assert (r.frames, r.height, r.width) == (3, 480, 480) and len(frames) == 3
    assert frames[0].std() > 5
    p = render(anno_3d(), "skeleton3d", tmp_path / "s.png")
    assert (p.frames, p.height, p.width) == (1, 480, 480)


def test_bad_output_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="past the end"):
        render(anno_2d(), "keypoint-heatmap", tmp_path / "x.png", frame=99)
    assert list(tmp_path.iterdir()) == []


# ---- PoseC3D heatmap geometry --------------------------------------------------------------


def test_pose_compact_matches_hand_computation():
    kp = np.array([[[[100, 100], [200, 300]]]], np.float32)
    out, shape = pose_compact(kp, (1080, 1920))
    # box 100x200 centred (150, 200), padded x1.25 -> half 62.5 x 125, squared -> 125 x 125
    assert shape == (250, 250)
    np.testing.assert_array_equal(out[0, 0], [[75, 25], [175, 225]])


def test_heatmap_peak_lies_on_the_keypoint():
    a = anno_2d(t=2)
    a["keypoint_score"][:] = 1.0
    a["keypoint_score"][1, :, 5] = 0.5  # a half-confident left shoulder of person 1
    vol = heatmap_volume(a)
    assert vol.shape == (2, 17, 56, 56) and vol.dtype == np.float32
    kp, _, _ = heatmap_geometry(a)
    for v in range(17):
        peak = np.unravel_index(vol[0, v].argmax(), vol[0, v].shape)  # (y, x)
        # the peak is the pixel nearest to one of the two persons' keypoint
        d = np.abs(kp[:, 0, v, ::-1] - np.array(peak)).max(axis=1)
        assert d.min() <= 0.5 + 1e-4, (v, peak, kp[:, 0, v])
        assert vol[0, v].max() <= 1.0 + 1e-6
    # the Gaussian is weighted by the score: person 1's shoulder peaks near 0.5
    x, y = np.round(kp[1, 0, 5]).astype(int)
    assert 0.5 * np.exp(-1 / (2 * 0.6**2)) < vol[0, 5, y, x] <= 0.5 + 1e-6


def test_limb_heatmap_covers_the_segment():
    a = anno_2d(t=1)
    a["keypoint_score"][:] = 1.0
    vol = heatmap_volume(a, limbs=True)
    assert vol.shape == (1, len(COCO_LIMBS), 56, 56)
    kp, _, _ = heatmap_geometry(a)
    c = COCO_LIMBS.index((13, 15))  # left knee - left ankle
    start, end = kp[0, 0, 13], kp[0, 0, 15]
    for s in (0.25, 0.5, 0.75):  # points along the segment are near the limb's maximum
        x, y = np.round(start + s * (end - start)).astype(int)
        assert vol[0, c, y, x] > np.exp(-(0.5**2 + 0.5**2) / (2 * 0.6**2)) - 1e-6
    # far from every limb the map is empty
    assert vol[0, c, 0, 0] == 0


def test_pick_samples_is_stable_per_class():
    annos = [{"frame_dir": f"S001C001P{p:03d}R001A{a:03d}", "label": a - 1}
             for p in range(1, 6) for a in (1, 2, 3)]  # fmt: skip
    picked = pick_samples(annos, 2)
    assert len(picked) == 6 and picked == pick_samples(list(reversed(annos)), 2)
    assert sorted({n[-3:] for n in picked}) == ["001", "002", "003"]
    assert pick_samples(annos, ["S001C001P002R001A003", "nope"]) == ["S001C001P002R001A003"]


# ---- the real clip and the CLI ---------------------------------------------------------------


def test_overlay_on_the_real_video(tmp_path):
    need_shared(NTU_VIDEO)
    a = anno_2d(t=4, img_shape=(1080, 1920))
    r = render(a, "overlay", tmp_path / "real.mp4", video=NTU_VIDEO)
    frames = read_mp4(tmp_path / "real.mp4")
    assert (r.frames, r.height, r.width) == (4, 540, 960) and len(frames) == 4
    assert frames[0].mean() > 40  # the room, not a black canvas


def test_overlay_with_the_kinect_reference(tmp_path):
    need_shared(NTU_VIDEO)
    import cv2

    from skeleton.ntu.kinect import kinect_colour_joints
    from skeleton.pictures.overlays import KINECT_COLOR

    skel = NTU_VIDEO_SKELETON
    ref = kinect_colour_joints(skel)
    assert ref.shape == (1, 103, 25, 2) and np.isfinite(ref).all()
    # the performer stands in the middle of the 1920x1080 frame
    assert 800 < np.median(ref[0, :, :, 0]) < 1200 and 300 < np.median(ref[0, :, :, 1]) < 800
    a = anno_2d(t=3, img_shape=(1080, 1920))
    a["keypoint_score"][:] = 0  # draw the reference only
    r = render(a, "overlay", tmp_path / "k.png", video=NTU_VIDEO, kinect=skel, frame=1)
    img = cv2.imread(str(tmp_path / "k.png"))
    magenta = np.argwhere(np.abs(img.astype(int) - KINECT_COLOR).sum(-1) < 60)
    assert r.frames == 1 and len(magenta) > 50
    # where the Kinect body is, at 960/1920 scale
    assert abs(magenta[:, 1].mean() - np.nanmean(ref[0, 1, :, 0]) / 2) < 30


def test_cli(tmp_path):
    pkl = tmp_path / "a.pkl"
    write_annotations(pkl, [anno_2d(), anno_3d()], split={"xsub_train": [anno_2d()["frame_dir"]]})
    base = ["visualize", pkl]
    ok = run_skeleton(
        *base, "--sample", "S001C001P001R001A023", "--kind", "limb-heatmap", "--out",
        tmp_path / "l.png",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "1 frame(s) of 448x448" in ok.stderr and (tmp_path / "l.png").exists()
    for sample, kind, msg in [
        ("S001C001P001R001A001", "keypoint-heatmap", "needs a 2D pickle"),
        ("S001C001P001R001A023", "skeleton3d", "needs a 3D pickle"),
        ("S009C001P001R001A001", "overlay", "is not in the pickle"),
    ]:
        p = run_skeleton(*base, "--sample", sample, "--kind", kind, "--out", tmp_path / "x.gif")
        assert p.returncode == 2 and msg in p.stderr, p.stderr
    assert not (tmp_path / "x.gif").exists()


# ---- report figures ----------------------------------------------------------------------------


def test_report_figures_2d(tmp_path):
    """plot_2d on a small 2D pickle: every figure, best/worst overlays without videos."""
    from PIL import Image

    from skeleton.core.rejects import Reject, write_rejects
    from skeleton.pictures.report import plot_2d, read_quality

    annos = []
    for i in range(4):
        a = anno_2d(t=4, seed=i)
        a["frame_dir"] = f"S001C001P00{i + 1}R001A023"
        annos.append(a)
    names = [a["frame_dir"] for a in annos]
    write_annotations(
        tmp_path / "2d.pkl", annos, split={"xsub_train": names[:3], "xsub_val": names[3:]}
    )
    write_rejects([Reject("S001C001P009R001A023", "", "no_video", "no video")], tmp_path / "r.tsv")
    (tmp_path / "q.tsv").write_text(
        "sample\tpck\tframes\tmissed_frames\n"
        + "".join(f"{n}\t{p}\t4\t0\n" for n, p in zip(names, (0.9, 0.5, 0.7, "nan"), strict=True))
    )
    assert [q for _, q in read_quality(tmp_path / "q.tsv")] == [0.9, 0.5, 0.7]
    keys = ("splits", "scores", "rejects", "pck", "pck_examples")
    out = {k: str(tmp_path / f"{k}.png") for k in keys}
    plot_2d(tmp_path / "2d.pkl", tmp_path / "r.tsv", tmp_path / "q.tsv", None, out, "t 2D")
    for k in keys:
        with Image.open(out[k]) as im:
            assert im.width >= 400 and im.height >= 200, k
            assert np.asarray(im.convert("L")).std() > 5, k  # not a blank picture


# ---- the workflow: report and visualize rules -------------------------------------------------


@pytest.mark.slow
def test_report_and_visualize_rules(tmp_path):
    """A tiny demo-like run with real Snakemake, then --report and the visualize target."""
    from skeleton.ntu.synth import write_synthetic

    write_synthetic(tmp_path / "raw", 12, seed=5, frames=(20, 30))
    cfg = {
        "ntu": {
            "skeletons": ["raw"],
            "denoise": "pyskl",
            "shard_size": 20000,
            "datasets": ["ntu60"],
        },
        "strict": False,
        "visualize": {"samples": 0, "format": "gif"},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))

    def run(*args: str) -> subprocess.CompletedProcess:
        return run_snakemake(tmp_path, *args, configfile="config.yaml")

    run("--cores", "2")
    figures = sorted(p.name for p in (tmp_path / "results/ntu60/report").iterdir())
    assert figures == [f"3d_{n}.png" for n in sorted(("splits", "classes", "lengths",
                                                      "persons", "rejects"))]  # fmt: skip
    run("--report", str(tmp_path / "report.html"))
    html = (tmp_path / "report.html").read_text(errors="replace")
    assert "3d_classes.png" in html and "class balance" in html.lower()
    # the visualize target: one named sample, all its 3D pictures
    from skeleton.core.annotations import load

    name = load(tmp_path / "results/ntu60/ntu60_3d.pkl")["annotations"][0]["frame_dir"]
    cfg["visualize"]["samples"] = [name]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    dry = run_snakemake(tmp_path, "-n", configfile="config.yaml", check=False)
    assert "Nothing to be done" in dry.stdout + dry.stderr, "visualize settings reran the build"
    run("--cores", "2", "visualize")
    viz = tmp_path / "results/ntu60/viz/3d"
    assert sorted(p.name for p in viz.iterdir() if not p.name.startswith(".")) == sorted(
        [f"{name}.{k}.{e}" for k in ("overlay", "skeleton3d") for e in ("gif", "png")]
        + ["failures.tsv"]
    )
    assert (
        len(read_gif(viz / f"{name}.skeleton3d.gif"))
        == load(tmp_path / "results/ntu60/ntu60_3d.pkl")["annotations"][0]["total_frames"]
    )


def test_kinect_joints_stay_visible_over_the_projected_3d_skeleton():
    """Where the projected NTU skeleton lies exactly on the Kinect's colour joints (as on real
    files: the projection is fitted to them), the magenta reference the legend announces is
    still there: drawn on top, thinner."""
    from skeleton.pictures.overlays import KINECT_COLOR, overlay_images, project_ntu

    a = anno_3d()
    a["keypoint"] = a["keypoint"][:1]
    kinect = project_ntu(a["keypoint"].astype(np.float64))  # (1, T, 25, 2): the same pixels
    frame = next(overlay_images(a, kinect=kinect))
    magenta = np.abs(frame.astype(int) - KINECT_COLOR).sum(-1) < 60
    assert magenta.sum() > 200, magenta.sum()


def test_count_axes_of_the_report_have_whole_ticks():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skeleton.pictures.report import _whole_ticks

    fig, ax = plt.subplots()
    ax.bar(["xsub_train", "xsub_val"], [1, 2])  # matplotlib alone ticks 0.25 apart here
    ax.set_ylabel("samples")
    fig.canvas.draw()
    assert any(t % 1 for t in ax.get_yticks())
    _whole_ticks(fig)
    fig.canvas.draw()
    assert all(t % 1 == 0 for t in ax.get_yticks())
    plt.close(fig)


@pytest.mark.slow
def test_report_after_one_benchmark_target(tmp_path):
    """`snakemake --report` after building only ntu60_xsub (the default config asks for both
    datasets): the report of what was built, and a line naming the target of the rest; before
    anything is built, one line naming a target."""
    from skeleton.ntu.synth import write_synthetic

    write_synthetic(tmp_path / "raw", 8, seed=5, frames=(20, 30))
    (tmp_path / "my.yaml").write_text(yaml.safe_dump({"ntu": {"skeletons": ["raw"]}}))
    report = ["--report", str(tmp_path / "report.html"), "--configfile", str(tmp_path / "my.yaml")]

    p = run_snakemake(tmp_path, *report, check=False)
    out = (p.stdout + p.stderr).strip().splitlines()
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert "report: nothing built to report yet" in out[-1] and "snakemake --cores" in out[-1]

    build = ["--cores", "2", "ntu60_xsub", "--configfile", str(tmp_path / "my.yaml")]
    p = run_snakemake(tmp_path, *build, check=False)
    assert p.returncode == 0, p.stderr
    # no reject: the end-of-run summary still names the report and the pickle
    tail = p.stderr[p.stderr.index("Datasets packaged in this run (1):") :]
    assert "ntu60 3d: 8 samples, 0 rejected; report: results/ntu60/rejects.tsv (no rejected" in tail
    assert "  pickle: results/ntu60/ntu60_3d.pkl, splits xsub_train" in tail
    p = run_snakemake(tmp_path, *report, check=False)
    assert p.returncode == 0, p.stderr
    (line,) = [x for x in p.stderr.splitlines() if x.startswith("report: ntu120")]
    assert "left out (not built)" in line and " ntu120`" in line
    html = (tmp_path / "report.html").read_text(errors="replace")
    assert "3d_classes.png" in html
