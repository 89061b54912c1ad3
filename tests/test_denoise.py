"""Both denoisers: bit-exact with the public tools' outputs on real files, and the documented
behaviour on the noise the real files lack (ghosts, objects, id switches, crowds, empty frames)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import GOLDEN, REAL_SKELETONS, need_shared

from skeleton.denoise import NoSkeleton, denoise
from skeleton.reader import SkeletonData, read_skeleton
from skeleton.synth import _object, _person


@pytest.mark.parametrize("mode", ["pyskl", "energy"])
def test_golden_real_files_bit_exact(mode):
    need_shared(GOLDEN)
    golden = np.load(GOLDEN)
    files = sorted(REAL_SKELETONS.glob("*.skeleton"))
    assert len(files) == 21
    for f in files:
        ref = golden[f"{mode}/{f.stem}"]
        out = denoise(read_skeleton(str(f)), mode)
        assert out.dtype == np.float16 and out.shape == ref.shape, f.stem
        assert out.tobytes() == ref.tobytes(), f"{mode}/{f.stem} differs"


def make(frames: list[list[tuple[int, np.ndarray]]]) -> SkeletonData:
    """SkeletonData from per-frame lists of (body id, (25, 3) xyz)."""
    ids, joints = [], []
    for bodies in frames:
        for bid, xyz in bodies:
            ids.append(bid)
            j = np.zeros((25, 12))
            j[:, :3] = xyz
            joints.append(j)
    return SkeletonData(
        n_frames=len(frames),
        bodies_per_frame=np.array([len(b) for b in frames], np.int32),
        body_ids=np.array(ids, np.int64),
        joints=np.array(joints).reshape(-1, 25, 12),
    )


def track(bid: int, xyz: np.ndarray, start: int, n_frames: int):
    return [
        [(bid, xyz[i - start])] if start <= i < start + len(xyz) else [] for i in range(n_frames)
    ]


def merge(*tracks):
    return [sum(frames, []) for frames in zip(*tracks, strict=True)]


RNG = np.random.default_rng(0)
A = _person(RNG, 60, 5, 0.0, 3.0)
B = _person(RNG, 60, 55, 1.0, 3.2)


def test_one_person_with_empty_frames():
    sk = make([[]] * 3 + track(1, A, 0, 60) + [[]] * 2)
    out = denoise(sk, "pyskl")
    assert out.shape == (1, 60, 25, 3)  # pyskl: only the track's frames
    assert np.array_equal(out[0], A.astype(np.float32).astype(np.float16))
    energy = denoise(sk, "energy")
    assert energy.shape == (1, 65, 25, 3)  # energy: the header's frame count, empty frames zero
    assert not energy[0, :3].any() and not energy[0, -2:].any()


def test_ghost_shorter_than_12_frames_is_dropped():
    ghost = _person(RNG, 11, 1, 1.5, 4.0) * 3  # moves a lot, but only 11 frames
    sk = make(merge(track(1, A, 0, 60), track(2, ghost, 20, 60)))
    out = denoise(sk, "pyskl")
    assert out.shape == (1, 60, 25, 3)


def test_object_wider_than_tall_is_dropped():
    obj = _object(RNG, 40) * [1, 1, 1]
    obj[:, :, 0] += np.linspace(0, 2, 40)[:, None]  # moves: the most "motion" of all tracks
    sk = make(merge(track(1, A, 0, 60), track(2, obj, 10, 60)))
    out = denoise(sk, "pyskl")
    assert out.shape == (1, 60, 25, 3)
    assert np.array_equal(out[0], A.astype(np.float16))


def test_two_persons_packed_and_id_switch_joined():
    # person B's id changes at frame 30: the two halves do not overlap, so they share a slot
    sk = make(merge(track(1, A, 0, 60), track(7, B[:30], 0, 60), track(8, B[30:], 30, 60)))
    out = denoise(sk, "pyskl")
    assert out.shape == (2, 60, 25, 3)
    slots = {tuple(out[p, 0, 0].tolist()) for p in range(2)}
    assert tuple(A[0, 0].astype(np.float16).tolist()) in slots
    b_slot = 0 if np.array_equal(out[0, 0], B[0].astype(np.float16)) else 1
    assert np.array_equal(out[b_slot], B.astype(np.float16))  # both halves in one person


def test_crowd_of_five_keeps_two():
    extra = [_person(RNG, 20, 2, -2 + k, 4.5) for k in range(3)]
    sk = make(
        merge(
            track(1, A, 0, 60),
            track(2, B, 0, 60),
            *(track(10 + k, e, 5, 60) for k, e in enumerate(extra)),
        )
    )
    for mode in ("pyskl", "energy"):
        assert denoise(sk, mode).shape[0] == 2


@pytest.mark.parametrize("mode", ["pyskl", "energy"])
def test_no_body_at_all_is_rejected(mode):
    with pytest.raises(NoSkeleton) as e:
        denoise(make([[]] * 10), mode)
    assert e.value.code == "no_skeleton"


def test_only_short_tracks_is_rejected():
    # PYSKL crashes here (assert in spread_denoising): we reject with a reason
    sk = make(merge(track(1, A[:8], 0, 20), track(2, B[:9], 10, 20)))
    with pytest.raises(NoSkeleton) as e:
        denoise(sk, "pyskl")
    assert e.value.code == "no_long_track"


def test_every_track_spread_noise_is_rejected():
    sk = make(merge(track(1, _object(RNG, 30), 0, 30), track(2, _object(RNG, 30), 0, 30)))
    with pytest.raises(NoSkeleton) as e:
        denoise(sk, "pyskl")
    assert e.value.code == "spread_noise"


@pytest.mark.parametrize("mode", ["pyskl", "energy"])
def test_all_zero_joints_are_rejected(mode):
    zero = np.zeros((30, 25, 3))
    sk = make(merge(track(1, zero, 0, 30), track(2, zero, 0, 30)))
    with pytest.raises(NoSkeleton) as e:
        denoise(sk, mode)
    assert e.value.code == "all_zero"


def test_unknown_mode():
    with pytest.raises(ValueError, match="unknown denoise mode"):
        denoise(make([[(1, A[0])]]), "median")
