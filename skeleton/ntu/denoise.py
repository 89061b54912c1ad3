"""The two public NTU RGB+D denoising algorithms, reimplemented to match them bit for bit.

* `pyskl` (default): the algorithm behind PYSKL's released 3D pickles (tools/data/ntu_preproc.py):
  bodies followed by id, motion-ranked, length and spread filters, packed into two persons.
* `energy`: MMAction2's raw converter (tools/data/skeleton/gen_ntu_rgbd_raw.py): the first four
  bodies of each frame by position, the two with the largest coordinate std kept.

Both return float16 (M, T, 25, 3). Where the public code would crash or return no person, or
write what the pickle cannot hold (inf), or allocate out of proportion to the file, we raise
`NoSkeleton` with a reason instead (the sample goes to the rejects report); see `DETAILS`.

The numerical core (float32 tracks, variances, standard deviations) runs in the C extension
(`_skelparse.energy_std`, `energy_slots`, `pyskl_tracks`), which repeats numpy's reductions in
numpy's order, so every value is numpy's; engine="numpy" is the same algorithm in numpy, used
when the extension was not built and as the reference in tests.
"""

from __future__ import annotations

import numpy as np

from skeleton.core import reasons
from skeleton.core.defaults import NTU
from skeleton.core.rejects import Reject, RejectError
from skeleton.ntu.reader import XYZ, SkeletonData

try:  # pragma: no cover - exercised implicitly
    from skeleton.ntu import _skelparse
except ImportError:  # pragma: no cover
    _skelparse = None

DENOISE_MODES = ("pyskl", "energy")

# PYSKL ntu_preproc.py constants
PYSKL_EPS = 1e-3  # "empty" threshold on absolute sums (non_zero, person swap)
PYSKL_LENGTH_THRESHOLD = 11  # tracks of <= 11 frames are dropped when several exist
PYSKL_WH_RATIO = 0.8  # a frame is valid when x range <= 0.8 * y range
PYSKL_SPREAD_NOISE_RATIO = 0.69754  # tracks with >= this share of invalid frames are dropped
PYSKL_MAX_PERSONS = 2

# MMAction2 gen_ntu_rgbd_raw.py constants
ENERGY_MAX_BODY_KINECT = 4  # body slots read per frame
ENERGY_MAX_BODY_TRUE = 2  # slots kept

# energy's output has one row per frame of the header (T), body or not, and an empty frame is
# 2 bytes of file ("0\n") but 150 bytes of float16 per kept slot (the float64 work arrays 4x
# that): a header of 500,001 empty frames made a 1 MB file cost ~900 MB. Frames beyond
# ENERGY_FRAMES_FLOOR must be backed by bodies (at least one per ENERGY_FRAMES_PER_BODY
# frames; a body is >= 623 bytes of file), else the sample is rejected before any array of T
# rows is made: memory stays a small multiple of the file's size. NTU's longest clips are 300
# frames (10 s at 30 fps): no real sample comes near either bound.
ENERGY_FRAMES_FLOOR = 3000
ENERGY_FRAMES_PER_BODY = 4

# float16 (the pickle's dtype) holds magnitudes up to 65504; from 65520 on a value rounds to inf
FLOAT16_INF_FROM = 65520.0
_AXES = "xyz"

# The reasons a denoiser rejects a sample, each with its detail when it says no more.
DETAILS = {
    reasons.NO_SKELETON: "the file holds no body at all (every frame has 0 bodies)",
    reasons.NO_LONG_TRACK: "pyskl: several bodies but none tracked for more than 11 frames",
    reasons.SPREAD_NOISE: "pyskl: spread denoising rejected every body",
    reasons.ALL_ZERO: "every joint of every kept body is zero",
    reasons.OUT_OF_RANGE: "a joint coordinate float16 cannot hold (magnitude 65520 or more: inf)",
    reasons.TOO_MANY_FRAMES: "energy: the header's frame count is out of proportion to the bodies",
}


class NoSkeleton(RejectError):
    """The denoiser cannot produce a person for this sample; `reason` is a DETAILS key, `line`
    the file's 1-based line at fault when there is one. The message is the detail."""

    def __init__(self, reason: str, detail: str = "", line: int | None = None):
        detail = detail or DETAILS[reason]
        super().__init__(reason, detail, detail)
        self.line = line

    def rejected(self, sample: str, source: str) -> Reject:
        """The detail names the file (and the line) the denoiser never saw."""
        where = source if self.line is None else f"{source}:{self.line}"
        return Reject(sample, source, self.reason, f"{where}: {self.detail}")


def denoise(sk: SkeletonData, mode: str = NTU.denoise, engine: str | None = None) -> np.ndarray:
    """engine: "c" (default when built) or "numpy" (the reference); the same results."""
    use_c = _skelparse is not None if engine is None else engine == "c"
    if use_c and _skelparse is None:
        raise RuntimeError("the C kernels (skeleton.ntu._skelparse) were not built")
    if mode == "pyskl":
        return denoise_pyskl(sk, use_c)
    if mode == "energy":
        return denoise_energy(sk, use_c)
    raise ValueError(f"unknown denoise mode {mode!r}; expected one of {DENOISE_MODES}")


def _float16(a: np.ndarray, use_c: bool) -> np.ndarray:
    """a.astype(np.float16), the same bits (_skelparse.to_float16: numpy's is ~9 ns a value)."""
    if not use_c or a.dtype not in (np.float32, np.float64):
        return a.astype(np.float16)
    a = np.ascontiguousarray(a)
    return np.frombuffer(_skelparse.to_float16(a, a.dtype.char), np.float16).reshape(a.shape)


def _xyz_joints(sk: SkeletonData) -> np.ndarray:
    """The joints as the C kernels take them: float64, C order, x y z the first three fields."""
    if sk.columns[:3] != XYZ:
        raise ValueError(f"the denoisers need x, y, z: joints hold fields {sk.columns}")
    return np.ascontiguousarray(sk.joints, dtype=np.float64)


def joint_line(sk: SkeletonData, body: int, joint: int) -> int:
    """The 1-based file line of a joint of a body occurrence (file order): line 1 the frame
    count, each frame a body-count line, each body 27 lines (body, joint count, 25 joints)."""
    frame = int(np.searchsorted(np.cumsum(sk.bodies_per_frame, dtype=np.int64), body, "right"))
    return 27 * body + frame + joint + 5


def _check_range(sk: SkeletonData, via_float32: bool) -> None:
    """NoSkeleton(OUT_OF_RANGE) naming the first coordinate (file order) whose float16 in
    the output would be inf: |value| >= 65520, after the float32 cast pyskl makes first
    (which rounds 65519.998... up to 65520). Rounding is monotonic, so the largest magnitude
    decides whether to look at all."""
    if sk.columns[:3] != XYZ:
        raise ValueError(f"the denoisers need x, y, z: joints hold fields {sk.columns}")
    xyz = sk.joints[:, :, :3]
    if xyz.size == 0:
        return
    with np.errstate(over="ignore"):  # float32 casts of values past its range: inf, as wanted
        top = np.abs(xyz).max()
        if (np.float32(top) if via_float32 else top) < FLOAT16_INF_FROM:
            return
        mag = np.abs(xyz.astype(np.float32) if via_float32 else xyz)
    body, joint, axis = np.unravel_index(int(np.argmax(mag >= FLOAT16_INF_FROM)), mag.shape)
    value = float(xyz[body, joint, axis])
    raise NoSkeleton(
        reasons.OUT_OF_RANGE,
        f"joint {joint + 1} {_AXES[axis]} = {value!r}: the float16 pickle cannot hold a "
        "magnitude of 65520 or more (it would be inf)",
        line=joint_line(sk, int(body), int(joint)),
    )


# --- pyskl --------------------------------------------------------------------------------


def _motion(kpt: np.ndarray) -> np.float32:
    # sum over x, y, z of the float32 variance of all joints over all frames
    return np.sum(np.var(kpt.reshape(-1, 3), axis=0))


def _tracks(sk: SkeletonData, use_c: bool) -> list[dict]:
    """Bodies grouped by id in order of first appearance; `start` counts non-empty frames only.
    `valid` is the number of frames passing the spread test, `valid_motion` the motion of those
    frames when some, not all, pass (else None)."""
    if len(sk.body_ids) == 0:
        return []
    if use_c:
        raw = _skelparse.pyskl_tracks(
            _xyz_joints(sk),
            sk.joints.shape[2],
            np.ascontiguousarray(sk.body_ids, dtype=np.int64),
            np.ascontiguousarray(sk.bodies_per_frame, dtype=np.int32),
        )
        return [
            {
                "kpt": np.frombuffer(kpt, np.float32).reshape(-1, 25, 3),
                "start": start,
                "motion": motion,
                "valid": valid,
                "valid_motion": valid_motion,
            }
            for kpt, start, motion, valid, valid_motion in raw
        ]
    xyz = sk.joints[:, :, :3].astype(np.float32)
    nonempty_index = np.cumsum(sk.bodies_per_frame > 0) - 1  # per frame
    occ_frame_rank = np.repeat(nonempty_index, sk.bodies_per_frame)
    order: dict[int, list[int]] = {}
    for i, bid in enumerate(sk.body_ids.tolist()):
        order.setdefault(bid, []).append(i)
    tracks = []
    for occ in order.values():
        kpt = xyz[occ]
        x, y = kpt[:, :, 0], kpt[:, :, 1]
        valid = (x.max(axis=1) - x.min(axis=1)) <= PYSKL_WH_RATIO * (y.max(axis=1) - y.min(axis=1))
        n_valid = int(valid.sum())
        tracks.append(
            {
                "kpt": kpt,
                "start": int(occ_frame_rank[occ[0]]),
                "motion": _motion(kpt),
                "valid": n_valid,
                "valid_motion": _motion(kpt[valid]) if 0 < n_valid < len(kpt) else None,
            }
        )
    return tracks


def _spread_denoise(tracks: list[dict]) -> list[dict]:
    kept = []
    for t in tracks:
        n_valid, n = t["valid"], t["kpt"].shape[0]
        if n_valid == n:
            kept.append(t)
            continue
        if 1 - n_valid / n >= PYSKL_SPREAD_NOISE_RATIO:
            continue
        t = dict(t, motion=min(t["motion"], t["valid_motion"]))
        kept.append(t)
    kept.sort(key=lambda t: -t["motion"])
    return kept


def _trim_empty(kpt: np.ndarray) -> np.ndarray:
    """Cut leading and trailing frames whose absolute sum over both persons is below eps."""

    def empty(i: int) -> bool:
        return bool(np.sum(np.abs(kpt[:, i])) < PYSKL_EPS)

    s, e = 0, kpt.shape[1]
    while s < e and empty(s):
        s += 1
    if s == e:  # PYSKL would run off the end of the array here
        raise NoSkeleton(reasons.ALL_ZERO)
    while empty(e - 1):
        e -= 1
    return kpt[:, s:e]


def denoise_pyskl(sk: SkeletonData, use_c: bool = _skelparse is not None) -> np.ndarray:
    if len(sk.body_ids) == 0:
        raise NoSkeleton(reasons.NO_SKELETON)
    _check_range(sk, via_float32=True)
    tracks = _tracks(sk, use_c)
    tracks.sort(key=lambda t: -t["motion"])
    if len(tracks) == 1:
        return _float16(tracks[0]["kpt"][None], use_c)
    tracks = [t for t in tracks if t["kpt"].shape[0] > PYSKL_LENGTH_THRESHOLD]
    if not tracks:
        raise NoSkeleton(reasons.NO_LONG_TRACK)
    if len(tracks) == 1:
        return _float16(tracks[0]["kpt"][None], use_c)
    tracks = _spread_denoise(tracks)
    if not tracks:
        raise NoSkeleton(reasons.SPREAD_NOISE)
    if len(tracks) == 1:
        return _float16(tracks[0]["kpt"][None], use_c)

    length = max(t["start"] + t["kpt"].shape[0] for t in tracks)
    kpt = np.zeros((PYSKL_MAX_PERSONS, length, 25, 3), np.float32)
    first = tracks[0]
    s1, e1 = first["start"], first["start"] + first["kpt"].shape[0]
    s2, e2 = 0, 0  # person 1's span starts as (0, 0), as in PYSKL
    kpt[0, s1:e1] = first["kpt"]
    for t in tracks[1:]:
        s, e = t["start"], t["start"] + t["kpt"].shape[0]
        if max(s1, s) >= min(e1, e):
            kpt[0, s:e] = t["kpt"]
            s1, e1 = min(s, s1), max(e, e1)
        elif max(s2, s) >= min(e2, e):
            kpt[1, s:e] = t["kpt"]
            s2, e2 = min(s, s2), max(e, e2)
        # else: overlaps both persons, discarded
    kpt = _trim_empty(kpt)
    if np.sum(np.abs(kpt[0, 0, 1])) < PYSKL_EPS and np.sum(np.abs(kpt[1, 0, 1])) > PYSKL_EPS:
        kpt = kpt[::-1]
    return _float16(kpt, use_c)


# --- energy -------------------------------------------------------------------------------


def _nonzero_std(s: np.ndarray) -> float:
    """Sum over x, y, z of the population std over the slot's frames with a non-zero sum."""
    s = s[s.sum(-1).sum(-1) != 0]
    if len(s) == 0:
        return 0
    return s[:, :, 0].std() + s[:, :, 1].std() + s[:, :, 2].std()


def _check_frames(sk: SkeletonData) -> None:
    n, bodies = sk.n_frames, len(sk.body_ids)
    if n > max(ENERGY_FRAMES_FLOOR, ENERGY_FRAMES_PER_BODY * bodies):
        raise NoSkeleton(
            reasons.TOO_MANY_FRAMES,
            f"the header declares {n} frames for {bodies} bodies: energy's output has a row "
            f"for every frame, out of proportion to the file (over {ENERGY_FRAMES_FLOOR} "
            f"frames, at most {ENERGY_FRAMES_PER_BODY} per body are taken)",
            line=1,
        )


def _slot(sk: SkeletonData, slot: int, use_c: bool) -> np.ndarray:
    """Energy slot `slot` as (T, 25, 3) float64: its bodies placed by frame, zeros elsewhere
    (one row of MMAction2's (4, T, 25, 3) array, made one kept slot at a time)."""
    if use_c:
        joints, width = _xyz_joints(sk), sk.joints.shape[2]
        bpf = np.ascontiguousarray(sk.bodies_per_frame, dtype=np.int32)
        data = _skelparse.energy_slots(joints, width, bpf, [slot])
        return np.frombuffer(data, np.float64).reshape(sk.n_frames, 25, 3)
    data = np.zeros((sk.n_frames, 25, 3))
    here = sk.body_slot == slot
    data[sk.body_frame[here]] = sk.joints[here, :, :3]
    return data


def denoise_energy(sk: SkeletonData, use_c: bool = _skelparse is not None) -> np.ndarray:
    if len(sk.body_ids) == 0:
        raise NoSkeleton(reasons.NO_SKELETON)
    _check_frames(sk)
    _check_range(sk, via_float32=False)
    if use_c:
        joints, width = _xyz_joints(sk), sk.joints.shape[2]
        bpf = np.ascontiguousarray(sk.bodies_per_frame, dtype=np.int32)
        energy = np.array(_skelparse.energy_std(joints, width, bpf))
    else:
        # a slot's rows with a non-zero sum are those of its bodies (the zero rows of frames
        # without one never count): the same rows, in the same order, as MMAction2's
        slot, xyz = sk.body_slot, sk.joints[:, :, :3]
        energy = np.array([_nonzero_std(xyz[slot == k]) for k in range(ENERGY_MAX_BODY_KINECT)])
    kept = []
    for k in energy.argsort()[::-1][:ENERGY_MAX_BODY_TRUE].tolist():
        data = _slot(sk, k, use_c)
        # MMAction2 drops a kept slot whose plain sum over all its values is exactly 0
        if data.reshape(1, *data.shape).sum((1, 2, 3))[0] != 0:
            kept.append(_float16(data, use_c))
    if not kept:
        raise NoSkeleton(reasons.ALL_ZERO)
    return np.stack(kept)
