"""Synthetic NTU RGB+D `.skeleton` files for tests, the demo and benchmarks.

Realistic in format (CRLF or LF, E-notation, integer-printed zeros, 17-digit body ids) and in the
noise the denoisers exist for: empty frames, short ghost bodies, flat "object" bodies (wider than
tall), body-id switches, 3 to 5 bodies in a frame. The motion is a smooth, class-dependent
movement of a standing person, so the data is plausible but carries no real action.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from skeleton.ntu.names import (
    N_ACTIONS,
    N_CAMERAS,
    N_PERFORMERS,
    N_REPLICATIONS,
    N_SETUPS,
    NTU60_MAX_ACTION,
    NTU60_MAX_SETUP,
    SampleName,
    missing_samples,
    parse_name,
)

# A standing person (metres, Kinect camera space), joints in Kinect v2 order:
# 0 SpineBase 1 SpineMid 2 Neck 3 Head 4-7 left shoulder/elbow/wrist/hand 8-11 right arm
# 12-15 left hip/knee/ankle/foot 16-19 right leg 20 SpineShoulder 21-22 left hand tip/thumb
# 23-24 right hand tip/thumb
BASE_POSE = np.array(
    [
        [0.00, -0.10], [0.00, 0.20], [0.00, 0.48], [0.00, 0.60],
        [-0.18, 0.40], [-0.25, 0.15], [-0.27, -0.08], [-0.28, -0.15],
        [0.18, 0.40], [0.25, 0.15], [0.27, -0.08], [0.28, -0.15],
        [-0.09, -0.12], [-0.10, -0.50], [-0.10, -0.88], [-0.10, -0.93],
        [0.09, -0.12], [0.10, -0.50], [0.10, -0.88], [0.10, -0.93],
        [0.00, 0.40], [-0.29, -0.22], [-0.25, -0.18], [0.29, -0.22], [0.25, -0.18],
    ]
)  # fmt: skip
ARM_JOINTS = [5, 6, 7, 9, 10, 11, 21, 22, 23, 24]
NTU60_PERFORMERS = 40  # NTU60 (setups 1-17) was recorded with performers 1-40
BODY_ID_BASE = 72057594037900000  # real ids look like 72057594037931101

# Kinect v2 intrinsics, roughly (depth 512x424, colour 1920x1080)
DEPTH_F, DEPTH_C = 365.0, (256.0, 212.0)
COLOR_F, COLOR_C = 1065.0, (960.0, 540.0)


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) < 1e-4:
        return f"{v:.1E}"  # E-notation as in real files: -9.3E-05
    return f"{v:.7g}"


def _person(rng: np.random.Generator, n: int, action: int, x0: float, z0: float) -> np.ndarray:
    """(n, 25, 3) joints of one moving person."""
    t = np.arange(n)[:, None]
    freq = 0.05 + 0.002 * action
    xyz = np.zeros((n, 25, 3))
    xyz[:, :, 0] = BASE_POSE[:, 0] + x0 + 0.002 * t
    xyz[:, :, 1] = BASE_POSE[:, 1] + 0.1
    xyz[:, :, 2] = z0 + 0.05 * np.sin(0.5 * freq * t)
    swing = 0.15 * np.sin(freq * t + rng.uniform(0, np.pi))
    xyz[:, ARM_JOINTS, 1] += swing
    xyz[:, ARM_JOINTS, 2] -= 0.5 * np.abs(swing)
    return xyz + rng.normal(0, 0.004, xyz.shape)


def _object(rng: np.random.Generator, n: int) -> np.ndarray:
    """A flat, wide "body" (furniture seen as a person): x range >> y range."""
    xyz = np.zeros((n, 25, 3))
    xyz[:, :, 0] = np.linspace(-0.6, 0.6, 25) + rng.uniform(-1, 1)
    xyz[:, :, 1] = -0.5 + rng.normal(0, 0.01, (n, 25))
    xyz[:, :, 2] = 3.0 + rng.normal(0, 0.01, (n, 25))
    return xyz


def _joint_lines(xyz: np.ndarray, rng: np.random.Generator) -> list[str]:
    x, y, z = xyz[:, 0], xyz[:, 1], np.maximum(xyz[:, 2], 0.5)
    dx, dy = DEPTH_C[0] + DEPTH_F * x / z, DEPTH_C[1] - DEPTH_F * y / z
    cx, cy = COLOR_C[0] + COLOR_F * x / z, COLOR_C[1] - COLOR_F * y / z
    quat = rng.normal(0, 0.3, (25, 4))
    quat[[3, 15, 19, 21, 22, 23, 24]] = 0  # leaf joints have no orientation, printed as 0
    lines = []
    for j in range(25):
        vals = [x[j], y[j], xyz[j, 2], dx[j], dy[j], cx[j], cy[j], *quat[j]]
        lines.append(" ".join(_fmt(v) for v in vals) + " 2")
    return lines


def sample_text(
    name: SampleName, rng: np.random.Generator, frames: tuple[int, int] = (50, 130)
) -> str:
    """The full text of one synthetic `.skeleton` file."""
    n = int(rng.integers(*frames))
    actors = name.n_actors
    # tracks: (body id, first frame, (m, 25, 3) joints)
    tracks: list[tuple[int, int, np.ndarray]] = []
    lead = int(rng.integers(0, 4)) if rng.random() < 0.3 else 0  # empty frames at the start
    tail = int(rng.integers(0, 4)) if rng.random() < 0.3 else 0
    body_n = n - lead - tail
    for a in range(actors):
        xyz = _person(rng, body_n, name.action, x0=-0.5 + a * 1.0 if actors == 2 else 0.0, z0=3.2)
        bid = BODY_ID_BASE + int(rng.integers(0, 99999))
        if rng.random() < 0.15 and body_n > 30:  # id switch mid-sequence
            cut = int(rng.integers(10, body_n - 10))
            tracks += [(bid, lead, xyz[:cut]), (bid + 1, lead + cut, xyz[cut:])]
        else:
            tracks.append((bid, lead, xyz))
    if rng.random() < 0.25:  # short ghost body
        m = int(rng.integers(2, 10))
        tracks.append(
            (BODY_ID_BASE + 99999, int(rng.integers(0, n - m)), _person(rng, m, 1, 1.5, 4.0))
        )
    if rng.random() < 0.2:  # flat object tracked for a while
        m = int(rng.integers(15, max(16, n // 2)))
        tracks.append((BODY_ID_BASE + 99998, int(rng.integers(0, n - m)), _object(rng, m)))
    if rng.random() < 0.05:  # crowded frames: 3 to 5 bodies
        for k in range(int(rng.integers(2, 4))):
            m = int(rng.integers(12, 20))
            tracks.append(
                (
                    BODY_ID_BASE + 99990 + k,
                    int(rng.integers(0, n - m)),
                    _person(rng, m, 2, -1.5 + k, 4.5),
                )
            )

    per_frame: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(n)]
    for bid, start, xyz in tracks:
        for i, joints in enumerate(xyz):
            if start + i < n:
                per_frame[start + i].append((bid, joints))
    lines = [str(n)]
    for bodies in per_frame:
        lines.append(str(len(bodies)))
        for bid, joints in bodies:
            lean = rng.normal(0, 0.05, 2)
            lines.append(f"{bid} 0 1 1 1 1 0 {_fmt(lean[0])} {_fmt(lean[1])} 2")
            lines.append("25")
            lines += _joint_lines(joints, rng)
    return "\n".join(lines) + "\n"


def sample_names(count: int, seed: int, ntu120: bool) -> list[SampleName]:
    """`count` distinct valid names; NTU120-only actions only in setups 18-32, as recorded."""
    rng = np.random.default_rng(seed)
    missing = missing_samples("ntu120")
    names: set[SampleName] = set()
    max_setup = N_SETUPS if ntu120 else NTU60_MAX_SETUP
    while len(names) < count:
        s = int(rng.integers(1, max_setup + 1))
        ntu60 = s <= NTU60_MAX_SETUP
        name = SampleName(
            s,
            int(rng.integers(1, N_CAMERAS + 1)),
            int(rng.integers(1, (NTU60_PERFORMERS if ntu60 else N_PERFORMERS) + 1)),
            int(rng.integers(1, N_REPLICATIONS + 1)),
            int(rng.integers(1, (NTU60_MAX_ACTION if ntu60 else N_ACTIONS) + 1)),
        )
        if name.name not in missing:
            names.add(name)
    return sorted(names)


def write_names(
    out_dir: str | os.PathLike,
    names: list[SampleName],
    seed: int = 0,
    frames: tuple[int, int] = (50, 130),
) -> list[Path]:
    """One file per name; half of them (by a seeded draw) with CRLF endings."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, name in enumerate(names):
        rng = np.random.default_rng([seed, i])
        text = sample_text(name, rng, frames)
        if rng.random() < 0.5:
            text = text.replace("\n", "\r\n")
        p = out / f"{name.name}.skeleton"
        p.write_bytes(text.encode())
        paths.append(p)
    return paths


def write_synthetic(
    out_dir: str | os.PathLike,
    samples: int,
    seed: int = 0,
    ntu120: bool = False,
    frames: tuple[int, int] = (50, 130),
) -> list[Path]:
    """`samples` files with names drawn from NTU60 (or all of NTU120)."""
    return write_names(out_dir, sample_names(samples, seed, ntu120), seed, frames)


def write_demo(out_dir: str | os.PathLike, samples: int, seed: int = 0) -> list[Path]:
    """Demo data: half NTU60 samples, half NTU120-only ones (setups 18-32), plus two files
    both datasets reject, so the demo's summary and rejects report show what a real run's do:
    one malformed file (a joint line with 13 values) and one sample on the official list of
    samples with missing skeletons (a well-formed file: the list alone rejects it)."""
    only120 = [
        n for n in sample_names(3 * samples, seed + 1, ntu120=True) if n.setup > NTU60_MAX_SETUP
    ]
    paths = write_synthetic(out_dir, samples - samples // 2, seed)
    paths += write_names(out_dir, only120[: samples // 2], seed + 1)
    taken = {p.name.removesuffix(".skeleton") for p in paths}
    listed = sorted(missing_samples("ntu60"))[0]
    bad = next(n for n in sample_names(samples + 2, seed + 2, ntu120=False) if n.name not in taken)
    out = Path(out_dir)
    rng = np.random.default_rng([seed, 1 << 20])
    (out / f"{listed}.skeleton").write_text(sample_text(parse_name(listed), rng))
    lines = sample_text(bad, rng).split("\n")
    joint = next(i for i, line in enumerate(lines) if len(line.split()) == 12)
    lines[joint] += " 0"  # the first joint line: one value too many
    (out / f"{bad.name}.skeleton").write_text("\n".join(lines))
    return sorted(paths + [out / f"{listed}.skeleton", out / f"{bad.name}.skeleton"])
