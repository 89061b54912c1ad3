"""`pose.postproc`: MMAction2's NTU box procedure (quirks one by one) and the boxes in shards.

Pure numpy plus OpenCV for the synthetic videos, in the main env (~2 s). The same procedure is
compared with MMAction2's own functions on real detections in tests/test_pose_reference.py.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import yaml
from conftest import BIG_PERSON, REPO, write_people_video
from postproc_cases import box, frame, video, walk

from skeleton.core.rejects import RejectError
from skeleton.pose import postproc_mmaction2 as mm
from skeleton.pose.extract import POSTPROCS, ExtractOptions, PoseError, extract_video

# ---- the quirks, one test each (names as in skeleton/pose/postproc_mmaction2.py) ------------


def test_quirk_equal_duplicates():
    a = box(0)
    assert len(mm.remove_duplicates(frame(a, a))) == 0  # both go
    weaker = box(0, s=0.8)
    np.testing.assert_array_equal(mm.remove_duplicates(frame(weaker, a)), frame(a))
    inner_better = box(5, 25, 50, 90, s=0.95)  # inside a, scores higher: both stay
    assert len(mm.remove_duplicates(frame(a, inner_better))) == 2


def test_quirk_numpy1_inside():
    # intersection 80 of a 100 px² box: a float32 ratio of exactly float32(0.8), which is above
    # 0.8 in float64 (numpy 1, the reference's numpy) but not in float32 (numpy 2's rule)
    small = np.array([0, 0, 10, 10, 0.6], np.float32)
    other = np.array([2, 0, 12, 10, 0.9], np.float32)
    assert np.float32(80) / np.float32(100) == np.float32(0.8)
    kept = mm.remove_duplicates(frame(small, other))
    np.testing.assert_array_equal(kept, frame(other))


def test_quirk_newest_tracklet():
    a, b = box(0, 0), box(20, 0)  # IoU 0.5: two tracklets
    c = box(8, 0)  # IoU 0.76 with a, 0.67 with b: both accept, a fits best
    ious = mm._iou32(frame(a, b), c)
    assert ious[0] > ious[1] >= 0.6
    tracklets = mm.link_tracklets([frame(a, b), frame(c)])
    assert [[t for t, _ in tr] for tr in tracklets] == [[0], [0, 1]]  # c joins b, the newer


def test_quirk_missed_total():
    # seen at 0..4: accepted up to t = 14 (14 - 0 - 5 = 9 < 10), not at 15
    seen = walk(0, range(5))
    for t, joins in ((14, True), (15, False)):
        frames = video(t + 1, seen, {t: box(5)})
        assert (len(mm.link_tracklets(frames)) == 1) is joins
    # seen at 0 and 6 (5 frames missed), then at 12: a current gap of 5, but 12 - 0 - 2 = 10
    frames = video(13, {0: box(0), 6: box(1), 12: box(2)})
    assert [[t for t, _ in tr] for tr in mm.link_tracklets(frames)] == [[0, 6], [12]]


def test_quirk_last_box():
    person = walk(100, range(2, 10))  # frames 2..9 of 12, score 0.9: not an easy example
    got = mm.actor_boxes(video(12, person), 1)
    assert got.branch == "one_tracklet" and got.boxes.shape == (12, 1, 5)
    for t in range(2, 10):
        np.testing.assert_array_equal(got.boxes[t, 0], person[t])
    for t in (0, 1, 10, 11):  # frame 0's nearest box is frame 2's; it gets frame 9's
        np.testing.assert_array_equal(got.boxes[t, 0], person[9])


def test_empty_first_frames_get_boxes():
    # mmaction2#1314: no person in the first frames; the reference's boxes (1.2.0) cover them
    person = walk(100, range(5, 20))
    got = mm.actor_boxes(video(20, person), 1)
    assert (got.boxes[:, 0, 4] > 0).all()
    np.testing.assert_array_equal(got.boxes[0, 0], person[19])
    two = mm.actor_boxes(video(20, person, walk(400, range(5, 20))), 2)
    assert two.branch == "tracklets" and (two.boxes[:, :, 4] > 0).all()


def test_quirk_centre_480_270():
    # a 1080p video: one person at the frame's true centre, one centred on (480, 270)
    centre = {t: box(930, 490, 60, 100) for t in range(10)}
    corner = {t: box(450, 220, 60, 100) for t in range(10)}  # centre (480, 270)
    assert float(mm.centre_distance(list(corner.items()))) == 0.0
    got = mm.actor_boxes(video(10, centre, corner), 1)
    assert got.branch == "nearest_tracklets"
    np.testing.assert_array_equal(got.boxes[:, 0], np.stack([corner[t] for t in range(10)]))


def test_quirk_nearest_tie():
    # Y (frames 0..5) and X (frames 7..15, nearer to (480, 270), covers half the video); frame 6
    # is as far from 5 as from 7 and takes frame 7's box: X's frames were filled first
    x = walk(420, range(7, 16), y=220)  # mean distance 19: limit max(50, 38)
    y = walk(470, range(0, 6), y=220)  # 22.5
    got = mm.actor_boxes(video(16, x, y), 1)
    assert got.branch == "nearest_tracklets"
    np.testing.assert_array_equal(got.boxes[6, 0], x[7])
    np.testing.assert_array_equal(got.boxes[5, 0], y[5])


def two_best_video():
    """Two actors, three tracklets: P and Q in frames 1..11 (Q alone-less at 6), R in 1..6."""
    p = walk(100, range(1, 12))
    q = {t: b for t, b in walk(400, range(1, 12), s=0.8).items() if t != 6}
    r = walk(700, range(1, 7), s=0.7)
    return p, q, r, video(12, p, q, r)


def test_quirk_first_from_last():
    p, q, r, frames = two_best_video()
    got = mm.actor_boxes(frames, 2)
    assert got.branch == "two_best"
    np.testing.assert_array_equal(got.boxes[0], frame(p[11], q[11]))  # frame 0: the last frame's
    np.testing.assert_array_equal(got.boxes[3], frame(p[3], q[3]))  # top two by score


def test_quirk_lone_partner():
    p, q, r, frames = two_best_video()
    frames[7] = frame(p[7])  # P alone at 7: its partner is frame 6's box overlapping it less
    got = mm.actor_boxes(frames, 2)
    np.testing.assert_array_equal(got.boxes[6], frame(p[6], r[6]))  # Q missing at 6: R
    np.testing.assert_array_equal(got.boxes[7], frame(p[7], r[6]))


def test_quirk_easy_order():
    a, b = walk(100, range(4), s=0.97), walk(400, range(4), s=0.98)
    frames = [frame(a[0], b[0]), frame(b[1], a[1]), frame(a[2], b[2]), frame(b[3], a[3])]
    got = mm.actor_boxes(frames, 2)
    assert got.branch == "easy" and got.boxes.shape == (4, 2, 5)
    np.testing.assert_array_equal(got.boxes[1], frame(b[1], a[1]))  # slot 0 is b here
    assert mm.easy_boxes(frames, 1) is None
    frames[2] = frame(a[2], b[2], box(700, s=0.5))  # a weak third box does not spoil it
    assert mm.actor_boxes(frames, 2).branch == "easy"


# ---- where the reference fails: rejects ------------------------------------------------------


@pytest.mark.parametrize("actors", [1, 2])
@pytest.mark.parametrize(
    "frames",
    [
        [frame()] * 10,  # nobody
        video(10, walk(100, range(10), w=40, h=100)),  # 4000 px² boxes only
        video(10, walk(100, range(5))),  # tracklets of 5 frames only
        video(20, {t: box(100 * t) for t in range(20)}),  # no box links
    ],
    ids=["nobody", "small", "short", "jumpy"],
)
def test_no_tracklet_is_an_error_with_a_reason(frames, actors):
    with pytest.raises(mm.NoActorBoxes) as err:
        mm.actor_boxes(frames, actors)
    assert err.value.reason == "no_tracklet"


def test_two_actors_one_tracklet_gives_one_box_slot():
    got = mm.actor_boxes(video(10, walk(100, range(10))), 2)
    assert got.branch == "tracklets" and got.boxes.shape == (10, 1, 5)


def test_detector_threshold_is_strict():
    b = frame(box(0, s=0.5), box(100, s=0.51))
    np.testing.assert_array_equal(mm.detector_boxes(b), b[1:])


def test_yolo_estimates_a_box_in_its_padded_region():
    from skeleton.pose.yolo import CROP_PADDING, crop_window

    assert CROP_PADDING == 1.25  # mmpose's top-down box padding
    assert crop_window(box(100, 200, 80, 160), (1080, 1920)) == (90, 180, 190, 380)
    assert crop_window(box(-30, 1000, 60, 100), (1080, 1920)) == (0, 987, 38, 1080)  # clipped
    x0, y0, x1, y1 = crop_window(box(2000, 20), (1080, 1920))
    assert x1 <= x0  # outside the frame: no region, no pose


def test_postproc_names_in_cli_config_and_schema():
    from skeleton.commands import pose

    assert POSTPROCS == pose.POSTPROCS == ("mmaction2", "tracks")
    schema = yaml.safe_load((REPO / "config" / "schema" / "config.schema.yaml").read_text())
    spec = schema["properties"]["pose"]["properties"]["postproc"]
    assert spec["default"] == "mmaction2"
    assert tuple(spec["enum"]) == POSTPROCS
    assert ExtractOptions().postproc == "mmaction2"


# ---- extract_video: boxes first, pose on every frame; bbox / bbox_score in every mode -------

cv2 = pytest.importorskip("cv2")
W, H = 320, 240


class BoxBackend:
    """Bright rectangles are persons (score 0.9), missed on `blind` frames; keypoints on a grid
    inside the box they are asked about."""

    name = "boxes"

    def __init__(self, blind: frozenset[int] = frozenset()) -> None:
        self.blind = blind
        self.frames_detected = 0
        self.estimated: list[np.ndarray] = []  # the boxes of every estimate call, per frame

    def detect(self, frames):
        out = []
        for f in frames:
            t = self.frames_detected
            self.frames_detected += 1
            mask = (cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) > 128).astype(np.uint8)
            n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
            boxes = [[x, y, x + w, y + h, 0.9] for x, y, w, h, _ in stats[1:n]]
            out.append(np.array([] if t in self.blind else boxes, np.float32).reshape(-1, 5))
        return out

    def estimate(self, frames, boxes):
        out = []
        for b in boxes:
            b = np.asarray(b, np.float32).reshape(-1, 5)
            self.estimated.append(b)
            u = np.linspace(0.1, 0.9, 17, dtype=np.float32)
            kp = np.stack(
                [b[:, None, 0] + u * (b[:, None, 2] - b[:, None, 0]), b[:, None, 1] + 50 * u],
                axis=-1,
            )
            out.append((kp.astype(np.float32), np.full((len(b), 17), 0.7, np.float32)))
        return out

    def describe(self):
        return {"backend": self.name}


write_video = functools.partial(write_people_video, size=(W, H), box=BIG_PERSON)


def test_mmaction2_mode_runs_pose_on_every_frame_in_the_chosen_boxes(tmp_path):
    path = write_video(tmp_path / "S001C001P001R001A001_rgb.avi", 20, lambda t: [40 + 2 * t])
    backend = BoxBackend(blind=frozenset({0, 1, 7}))
    a = extract_video(backend, path, ExtractOptions(batch_size=6))
    assert a["keypoint"].shape == (1, 20, 17, 2) and a["keypoint_score"].shape == (1, 20, 17)
    assert a["bbox"].shape == (1, 20, 4) and a["bbox"].dtype == np.float32
    assert a["bbox_score"].shape == (1, 20) and a["bbox_score"].dtype == np.float32
    assert backend.frames_detected == 20 and len(backend.estimated) == 20
    assert all(len(b) == 1 for b in backend.estimated)  # one box a frame, also on blind frames
    np.testing.assert_array_equal(np.stack(backend.estimated)[:, 0, :4], a["bbox"][0])
    assert (a["keypoint_score"] > 0).all() and (a["bbox_score"] == np.float32(0.9)).all()
    for t in (0, 1, 7):  # missed frames: the tracklet's last box (last-box quirk)
        np.testing.assert_array_equal(a["bbox"][0, t], a["bbox"][0, 19])
    np.testing.assert_allclose(a["bbox"][0, 5], [50, 60, 110, 160], atol=1)


def test_mmaction2_mode_two_actors_with_one_found_keeps_an_empty_second_person(tmp_path):
    path = write_video(tmp_path / "S001C001P001R001A050_rgb.avi", 12, lambda t: [40 + t])
    backend = BoxBackend()
    a = extract_video(backend, path, ExtractOptions(batch_size=5))
    assert a["keypoint"].shape == (2, 12, 17, 2) and a["label"] == 49
    assert (a["bbox_score"][0] > 0).all() and not a["bbox_score"][1].any()
    assert not a["bbox"][1].any() and not a["keypoint"][1].any()
    assert all(len(b) == 1 for b in backend.estimated)  # no pose on the empty slot


def test_mmaction2_mode_rejects_what_the_reference_cannot_do(tmp_path):
    nobody = write_video(tmp_path / "S001C001P001R001A001_rgb.avi", 8, lambda t: [])
    with pytest.raises(PoseError) as err:
        extract_video(BoxBackend(), nobody, ExtractOptions())
    assert err.value.reason == "no_person"
    short = write_video(tmp_path / "S001C001P001R001A002_rgb.avi", 8, lambda t: [40] * (t < 4))
    with pytest.raises(RejectError) as err:  # MMAction2's box procedure: NoActorBoxes
        extract_video(BoxBackend(), short, ExtractOptions())
    assert err.value.reason == "no_tracklet"
    # the same video in tracks mode is usable
    a = extract_video(BoxBackend(), short, ExtractOptions(postproc="tracks"))
    assert (a["bbox_score"][0, :4] > 0).all() and not a["bbox_score"][0, 4:].any()


def test_tracks_and_generic_modes_keep_detector_boxes(tmp_path):
    people = lambda t: [30 + t] + ([230 - t] if t >= 3 else [])  # noqa: E731
    ntu = write_video(tmp_path / "S001C001P001R001A060_rgb.avi", 10, people)
    a = extract_video(BoxBackend(), ntu, ExtractOptions(postproc="tracks"))
    present = a["keypoint_score"].sum(-1) > 0
    np.testing.assert_array_equal(a["bbox_score"] > 0, present)
    assert not a["bbox"][~present].any() and (a["bbox_score"][present] == np.float32(0.9)).all()
    np.testing.assert_allclose(a["bbox"][0, 0], [30, 60, 90, 160], atol=1)
    generic = write_video(tmp_path / "clip.avi", 10, people)
    g = extract_video(BoxBackend(), generic, ExtractOptions(postproc="mmaction2"))
    assert g["bbox"].shape == (2, 10, 4) and g["bbox_score"].shape == (2, 10)  # top-M tracks
    np.testing.assert_array_equal(g["bbox_score"] > 0, g["keypoint_score"].sum(-1) > 0)


def test_tracks_mode_interpolates_boxes_with_keypoints():
    from skeleton.pose.actors import ntu_tracks

    def det(x):
        b = box(x)
        kp = np.full((1, 17, 2), x, np.float32)
        return b[None], kp, np.full((1, 17), 0.8, np.float32)

    empty = (np.zeros((0, 5), np.float32), np.zeros((0, 17, 2)), np.zeros((0, 17)))
    dets = [det(100), det(101), det(102), empty, empty, det(105), det(106)]
    p = ntu_tracks(dets, action=1)
    np.testing.assert_allclose(p.bbox[0, 3:5, 0], [103, 104], atol=1e-4)
    np.testing.assert_allclose(p.bbox_score[0], 0.9, atol=1e-6)
