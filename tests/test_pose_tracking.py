"""IoU tracking, slot packing and the NTU / generic post-processing, on synthetic detections."""

from __future__ import annotations

import numpy as np
import pytest

from skeleton.pose.actors import (
    PostOptions,
    drop_nested,
    fill_gaps,
    generic_persons,
    n_actors,
    ntu_persons,
)
from skeleton.pose.tracking import build_tracks, iou_matrix, pack_tracks, slots_to_arrays


def person(x: float, y: float = 100.0, w: float = 60.0, h: float = 160.0, score: float = 0.9):
    """A detection: box (5,), keypoints (17, 2) spread over the box (x-coordinate tags it)."""
    box = np.array([x, y, x + w, y + h, score], np.float32)
    kp = np.stack(
        [np.linspace(x + 5, x + w - 5, 17), np.linspace(y + 5, y + h - 5, 17)], axis=1
    ).astype(np.float32)
    return box, kp, np.full(17, score, np.float32)


def frame(*people) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not people:
        return (
            np.zeros((0, 5), np.float32),
            np.zeros((0, 17, 2), np.float32),
            np.zeros((0, 17), np.float32),
        )
    boxes, kps, scores = zip(*people, strict=True)
    return np.stack(boxes), np.stack(kps), np.stack(scores)


def test_iou_matrix():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(iou_matrix(a, b)[0], [1.0, 50 / 150, 0.0])
    assert iou_matrix(np.zeros((0, 5)), b).shape == (0, 3)


def test_two_walkers_keep_their_slots_when_detection_order_flips():
    dets = []
    for t in range(30):
        left, right = person(100 + 2 * t), person(400 - 2 * t, score=0.8)
        dets.append(frame(left, right) if t % 2 else frame(right, left))
    slots = pack_tracks(build_tracks(dets), 2)
    kp, sc = slots_to_arrays(slots, len(dets))
    assert kp.shape == (2, 30, 17, 2) and sc.shape == (2, 30, 17)
    # slot 0 is the better-scored (left) walker in every frame
    np.testing.assert_allclose(kp[0, :, 0, 0], [105 + 2 * t for t in range(30)])
    np.testing.assert_allclose(kp[1, :, 0, 0], [405 - 2 * t for t in range(30)])


def test_broken_track_rejoins_its_slot_and_cap_holds():
    dets = [frame(person(100 + t)) for t in range(10)]
    dets += [frame() for _ in range(12)]  # longer than MAX_AGE: the tracker starts a new track
    dets += [frame(person(112 + t)) for t in range(10)]
    tracks = build_tracks(dets)
    assert len(tracks) == 2
    slots = pack_tracks(tracks, 3)
    assert len(slots) == 1 and len(slots[0]) == 2


def test_distant_track_opens_new_slot_only_while_below_cap():
    dets = [frame(person(100)) for _ in range(10)] + [frame(person(900)) for _ in range(10)]
    assert len(pack_tracks(build_tracks(dets), 2)) == 2
    assert len(pack_tracks(build_tracks(dets), 1)) == 1


def test_top_m_by_score_in_generic_mode():
    dets = [frame(person(50, score=0.5), person(300, score=0.9), person(600, score=0.7))] * 5
    kp, sc = generic_persons(dets, max_persons=2)
    assert kp.shape[0] == 2
    assert kp[0, 0, 0, 0] == pytest.approx(305) and kp[1, 0, 0, 0] == pytest.approx(605)


def test_frames_without_person_stay_zero():
    dets = [frame() for _ in range(5)] + [frame(person(100)) for _ in range(5)]
    kp, sc = generic_persons(dets, 2)
    assert kp.shape == (1, 10, 17, 2)
    assert not kp[:, :5].any() and not sc[:, :5].any()
    assert (sc[0, 5:] > 0).all()


def test_n_actors_from_action_class():
    assert [n_actors(a) for a in (1, 49, 50, 60, 61, 105, 106, 120)] == [1, 1, 2, 2, 1, 1, 2, 2]


def test_nested_duplicate_is_dropped_but_neighbours_stay():
    outer = person(100, w=100, h=200, score=0.9)
    inner = person(110, y=110, w=60, h=80, score=0.6)  # inside the outer box
    neighbour = person(180, w=100, h=200, score=0.7)  # overlaps, not nested
    boxes, _, _ = drop_nested(frame(inner, outer, neighbour), 0.8)
    np.testing.assert_allclose(boxes[:, 4], [0.9, 0.7])


def test_ntu_two_person_sample_keeps_two_slots_and_fills_gaps():
    dets = []
    for t in range(40):
        people = [person(100 + t, score=0.9)]
        if 10 <= t < 40 and not 20 <= t < 24:  # enters late, 4 missed frames
            people.append(person(500 - t, score=0.8))
        people.append(person(105 + t, y=110, w=40, h=60, score=0.5))  # nested duplicate
        dets.append(frame(*people))
    kp, sc = ntu_persons(dets, action=50)
    assert kp.shape == (2, 40, 17, 2)
    present = sc.sum(-1) > 0
    assert present[0].all()
    assert not present[1, :10].any() and present[1, 10:].all()  # gap 20..23 filled
    np.testing.assert_allclose(kp[1, 20:24, 0, 0], [505 - t for t in range(20, 24)], atol=1e-3)
    np.testing.assert_allclose(kp[0, :, 0, 0], [105 + t for t in range(40)])


def test_ntu_one_person_sample_drops_spurious_second_person():
    dets = [frame(person(100 + t), person(800, score=0.4)) for t in range(20)]
    kp, sc = ntu_persons(dets, action=1)
    assert kp.shape == (1, 20, 17, 2)
    np.testing.assert_allclose(kp[0, :, 0, 0], [105 + t for t in range(20)])


def test_ntu_two_person_sample_with_one_person_found_pads_a_zero_person():
    kp, sc = ntu_persons([frame(person(100))] * 8, action=120)
    assert kp.shape == (2, 8, 17, 2) and not sc[1].any()


def test_long_gaps_are_not_filled():
    kp = np.zeros((1, 30, 17, 2), np.float32)
    sc = np.zeros((1, 30, 17), np.float32)
    kp[0, [0, 29]] = 1.0
    sc[0, [0, 29]] = 1.0
    fill_gaps(kp, sc, max_gap=PostOptions().max_gap)
    assert not sc[0, 1:29].any()
    fill_gaps(kp, sc, max_gap=28)
    assert (sc[0] > 0).all()


def test_broken_tracks_of_two_people_resume_in_their_own_slots():
    """Both people vanish for longer than MAX_AGE; each returns to the nearest slot."""
    dets = [frame(person(100, score=0.9), person(300, score=0.8)) for _ in range(10)]
    dets += [frame() for _ in range(12)]
    # after the gap, the right person scores higher and is seen longer: packed first
    dets += [frame(person(305, score=0.95), person(105, score=0.6)) for _ in range(20)]
    kp, _ = slots_to_arrays(pack_tracks(build_tracks(dets), 2), len(dets))
    xs = kp[:, :, 0, 0]
    left = int(np.argmin(xs[:, 0]))
    np.testing.assert_allclose(xs[left, :10], 105)
    np.testing.assert_allclose(xs[left, 22:], 110)
    np.testing.assert_allclose(xs[1 - left, 22:], 310)
