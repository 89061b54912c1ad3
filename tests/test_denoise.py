"""Both denoisers: bit-exact with the public tools' outputs on real files, and the documented
behaviour on the noise the real files lack (ghosts, objects, id switches, crowds, empty frames)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import GOLDEN, REAL_SKELETONS, need_shared

from skeleton.ntu import denoise as D
from skeleton.ntu.denoise import NoSkeleton, denoise
from skeleton.ntu.reader import XYZ, SkeletonData, read_skeleton
from skeleton.ntu.synth import _object, _person

ENGINES = ["c", "numpy"] if D._skelparse is not None else ["numpy"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("mode", ["pyskl", "energy"])
def test_golden_real_files_bit_exact(mode, engine):
    need_shared(GOLDEN)
    golden = np.load(GOLDEN)
    files = sorted(REAL_SKELETONS.glob("*.skeleton"))
    assert len(files) == 21
    for f in files:
        ref = golden[f"{mode}/{f.stem}"]
        out = denoise(read_skeleton(str(f), columns=XYZ), mode, engine=engine)
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
    assert e.value.reason == "no_skeleton"


def test_only_short_tracks_is_rejected():
    # PYSKL crashes here (assert in spread_denoising): we reject with a reason
    sk = make(merge(track(1, A[:8], 0, 20), track(2, B[:9], 10, 20)))
    with pytest.raises(NoSkeleton) as e:
        denoise(sk, "pyskl")
    assert e.value.reason == "no_long_track"


def test_every_track_spread_noise_is_rejected():
    sk = make(merge(track(1, _object(RNG, 30), 0, 30), track(2, _object(RNG, 30), 0, 30)))
    with pytest.raises(NoSkeleton) as e:
        denoise(sk, "pyskl")
    assert e.value.reason == "spread_noise"


@pytest.mark.parametrize("mode", ["pyskl", "energy"])
def test_all_zero_joints_are_rejected(mode):
    zero = np.zeros((30, 25, 3))
    sk = make(merge(track(1, zero, 0, 30), track(2, zero, 0, 30)))
    with pytest.raises(NoSkeleton) as e:
        denoise(sk, mode)
    assert e.value.reason == "all_zero"


def test_unknown_mode():
    with pytest.raises(ValueError, match="unknown denoise mode"):
        denoise(make([[(1, A[0])]]), "median")


# --- the C kernels against the numpy code they replace: every value, bit for bit ------------

needs_c = pytest.mark.skipif(D._skelparse is None, reason="the C extension was not built")


def _body(rng: np.random.Generator, kind: int, base: np.ndarray) -> np.ndarray:
    if kind == 0:  # a person-like cloud
        return base + rng.normal(0, 0.05, (25, 3))
    if kind == 1:  # all zero (real files have them)
        return np.zeros((25, 3))
    if kind == 2:  # wider than tall: spread noise
        b = base + rng.normal(0, 0.01, (25, 3))
        b[:, 0] += np.linspace(-1, 1, 25)
        return b
    if kind == 3:  # magnitudes where summation order shows
        return rng.choice([1e8, -1e8, 1e-8, 0.5, -0.5, 3.0, 1e16, -1e16, 1.0], (25, 3))
    if kind == 4:  # 7 decimals, as the files print them
        return np.round(base + rng.normal(0, 0.3, (25, 3)), 7)
    if kind == 5:  # beyond float32: inf after the cast
        b = np.repeat(base, 25, 0)
        b[rng.integers(25), rng.integers(3)] = rng.choice([1e39, -1e39])
        return b
    return np.full((25, 3), rng.choice([0.25, -1.0, 2.0]))  # no variance: exact ties


def _noisy(rng: np.random.Generator) -> SkeletonData:
    """Empty frames, 0-6 bodies a frame from a pool of ids (tracks, switches, crowds), duplicate
    bodies (energy ties), 3 or 12 joint fields, up to 1,500 frames (sums past 8,192 values)."""
    n_frames = int(rng.choice([rng.integers(1, 40), rng.integers(1, 400), rng.integers(300, 1500)],
                              p=[0.45, 0.5, 0.05]))  # fmt: skip
    pool, most = int(rng.integers(1, 8)), int(rng.integers(1, 7))
    kinds = rng.choice(7, size=pool, p=[0.45, 0.08, 0.12, 0.08, 0.15, 0.02, 0.1])
    bases = rng.normal(0, 1, (pool, 1, 3)) * rng.choice([1, 100, 1e-3])
    p_empty, dup = rng.choice([0, 0.1, 0.5]), rng.random() < 0.2
    bpf, ids, joints = [], [], []
    for f in range(n_frames):
        n = 0 if rng.random() < p_empty else int(rng.integers(0, most + 1))
        bpf.append(n)
        for k in range(n):
            bid = int(rng.integers(pool))
            ids.append(bid * 2**56 + 1 if rng.random() < 0.5 else bid)
            if dup and k and rng.random() < 0.5:
                joints.append(joints[-1])
            else:
                joints.append(_body(rng, kinds[bid], bases[bid] + 0.01 * f))
    width = int(rng.choice([3, 12]))
    out = rng.normal(0, 1, (len(joints), 25, width))
    out[:, :, :3] = np.array(joints).reshape(-1, 25, 3)
    cols = XYZ if width == 3 else tuple(range(12))
    return SkeletonData(n_frames, np.array(bpf, np.int32), np.array(ids, np.int64), out, cols)


def _energy_numpy(sk: SkeletonData) -> list:
    data = np.zeros((4, sk.n_frames, 25, 3))
    keep = sk.body_slot < 4
    data[sk.body_slot[keep], sk.body_frame[keep]] = sk.joints[keep, :, :3]
    return [D._nonzero_std(x) for x in data], data


def _f32(v) -> bytes:
    return np.float32(v).tobytes()


@needs_c
def test_c_kernels_equal_numpy_value_for_value():
    """Tracks, motions, spread counts and energies, which the outputs only feel through
    comparisons (so a wrong sum order rarely shows in them): compared value by value."""
    rng = np.random.default_rng(18)
    tracks = energies = 0
    for _ in range(150):
        sk = _noisy(rng)
        if len(sk.body_ids) == 0:
            continue
        with np.errstate(all="ignore"):  # inf - inf in the float32 variance of 1e39 joints
            numpy_tracks = D._tracks(sk, False)
        for c, n in zip(D._tracks(sk, True), numpy_tracks, strict=True):
            assert c["kpt"].tobytes() == n["kpt"].tobytes() and c["start"] == n["start"]
            assert _f32(c["motion"]) == _f32(n["motion"]) and c["valid"] == n["valid"]
            assert (c["valid_motion"] is None) == (n["valid_motion"] is None)
            if c["valid_motion"] is not None:
                assert _f32(c["valid_motion"]) == _f32(n["valid_motion"])
            tracks += 1
        with np.errstate(all="ignore"):
            ref, data = _energy_numpy(sk)
        got = D._skelparse.energy_std(D._xyz_joints(sk), sk.joints.shape[2], sk.bodies_per_frame)
        assert np.array(got).tobytes() == np.array(ref).tobytes()
        assert [type(e) is int for e in got] == [type(e) is int for e in ref]  # empty slot: 0
        for slots in ([0, 1], [3, 2], [1]):
            placed = D._skelparse.energy_slots(
                D._xyz_joints(sk), sk.joints.shape[2], sk.bodies_per_frame, slots
            )
            assert placed == data[slots].tobytes()
        energies += 4
    assert tracks > 500 and energies > 500


@needs_c
@pytest.mark.parametrize("mode", ["pyskl", "energy"])
def test_c_engine_equals_numpy_engine(mode, synth_ntu):
    rng = np.random.default_rng(81)
    cases = [_noisy(rng) for _ in range(60)]
    cases += [read_skeleton(str(f), columns=XYZ) for f in sorted(synth_ntu.rglob("*.skeleton"))]
    assert len(cases) == 140

    def run(sk, engine):
        try:
            return denoise(sk, mode, engine=engine)
        except NoSkeleton as exc:
            return exc.reason

    for sk in cases:
        with np.errstate(all="ignore"):  # numpy warns on the inf of 1e39 joints as float32
            c, n = run(sk, "c"), run(sk, "numpy")
        if isinstance(n, str):
            assert c == n
        else:
            assert c.dtype == n.dtype and c.shape == n.shape and c.tobytes() == n.tobytes()


@pytest.mark.parametrize("engine", ENGINES)
def test_energy_equals_the_literal_algorithm(engine):
    """denoise_energy (slot by slot, energies from the bodies) against MMAction2's steps as
    written: the (4, T, 25, 3) array, argsort()[::-1], the zero-sum filter, float16. Where a
    coordinate is out of float16's range we reject (`out_of_range`); elsewhere, equal bits."""
    rng = np.random.default_rng(25)
    compared = rejected = 0
    for _ in range(120):
        sk = _noisy(rng)
        if len(sk.body_ids) == 0:
            continue
        with np.errstate(all="ignore"):
            energy, data = _energy_numpy(sk)
            ref = data[np.array(energy).argsort()[::-1][:2]]
            ref = ref[ref.sum((1, 2, 3)) != 0].astype(np.float16)
        try:
            got = denoise(sk, "energy", engine=engine)
        except NoSkeleton as exc:
            if exc.reason == "out_of_range":
                assert np.abs(sk.joints[:, :, :3]).max() >= D.FLOAT16_INF_FROM
                rejected += 1
            else:
                assert exc.reason == "all_zero" and len(ref) == 0
            continue
        assert got.shape == ref.shape and got.tobytes() == ref.tobytes()
        compared += 1
    assert compared > 60 and rejected > 5


@needs_c
def test_float16_conversion_is_numpys():
    rng = np.random.default_rng(16)
    halves = np.arange(2**16, dtype=np.uint16).view(np.float16).astype(np.float64)
    halves = halves[np.isfinite(halves)]
    mids = np.concatenate([halves, halves[:-1] + np.diff(halves) / 2])  # ties to even
    f64 = np.concatenate([
        mids, -mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf),
        rng.integers(0, 2**64, 10**6, dtype=np.uint64).view(np.float64),  # NaN payloads too
        [np.inf, -np.inf, 65504, 65519.99, 65520, 65536, 1e300, 5e-324, 2.0**-25],
    ])  # fmt: skip
    f32 = np.arange(0, 2**32, 251, dtype=np.uint64).astype(np.uint32).view(np.float32)
    with np.errstate(all="ignore"):
        for a in (f64, f32):
            got = D._float16(a, use_c=True)
            assert got.view(np.uint16).tobytes() == a.astype(np.float16).view(np.uint16).tobytes()
