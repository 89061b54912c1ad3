"""The .skeleton reader: exact values, both line endings, strict rejection with line numbers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MALFORMED, REAL_SKELETONS, need_shared

from skeleton import reader
from skeleton.ntu import parse_name
from skeleton.reader import SkeletonFormatError, parse_skeleton
from skeleton.synth import sample_text

JOINT = (
    "0.2181153 0.1725972 3.785547 277.419 191.8218 1036.233 519.1677 -0.2059419 0.05 0.96 -0.12 2"
)
BODY = "72057594037931101 0 1 1 1 1 0 0.02764709 0.05745083 2"


def body(joints: list[str] | None = None, bid: str = "72057594037931101") -> list[str]:
    return [BODY.replace("72057594037931101", bid), "25"] + (joints or [JOINT] * 25)


def text(frames: list[list[str]]) -> bytes:
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for b in bodies:
            lines += b
    return ("\n".join(lines) + "\n").encode()


def both(data: bytes):
    """Parse with the C reader and the pure-Python one; they must agree exactly."""
    assert reader._skelparse is not None, "the C reader was not built"
    fast = parse_skeleton(data, "f.skeleton", engine="c")
    slow = parse_skeleton(data, "f.skeleton", engine="python")
    assert fast.n_frames == slow.n_frames
    for a, b in [(fast.bodies_per_frame, slow.bodies_per_frame), (fast.body_ids, slow.body_ids)]:
        assert np.array_equal(a, b)
    assert fast.joints.tobytes() == slow.joints.tobytes()
    return fast


def errors(data: bytes) -> tuple[tuple[int, str], tuple[int, str]]:
    out = []
    for engine in ("c", "python"):
        with pytest.raises(SkeletonFormatError) as e:
            parse_skeleton(data, "bad.skeleton", engine=engine)
        assert str(e.value).startswith(f"bad.skeleton:{e.value.line}: ")
        out.append((e.value.line, e.value.reason))
    assert out[0] == out[1], "C and Python readers disagree"
    return out[0]


def test_values_are_exactly_pythons_float():
    tokens = [
        "-9.3E-05",
        "0",
        "12",
        "1e22",
        "1.7976931348623157e308",
        "0.1",
        "-0.0",
        "123456789012345678901234",
        "4.9e-324",
        "2.2250738585072014e-308",
        "+7.25",
        ".5",
        "5.",
    ]
    joints = [" ".join((tokens * 2)[i : i + 11]) + " 2" for i in range(0, 25)]
    joints = [
        " ".join((tokens * 3)[j % len(tokens) : j % len(tokens) + 11]) + " 2" for j in range(25)
    ]
    sk = both(text([[body(joints)]]))
    expect = np.array([[float(t) for t in j.split()] for j in joints])
    assert sk.joints[0].tobytes() == expect.tobytes()


def test_body_ids_are_integers_not_floats():
    sk = both(text([[body(bid="72057594037931101"), body(bid="72057594037931103")]]))
    assert sk.body_ids.tolist() == [72057594037931101, 72057594037931103]
    assert float(72057594037931101) == float(72057594037931100)  # why floats would not do


def test_crlf_equals_lf_and_empty_frames():
    data = text([[body()], [], [body(), body(bid="7")]])
    lf, crlf = both(data), both(data.replace(b"\n", b"\r\n"))
    assert lf.bodies_per_frame.tolist() == [1, 0, 2]
    assert lf.joints.tobytes() == crlf.joints.tobytes()
    assert lf.body_frame.tolist() == [0, 2, 2] and lf.body_slot.tolist() == [0, 0, 1]


def test_synthetic_files_parse_identically(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("S001C001P001R001A001", "S018C002P050R002A110"):
        both(sample_text(parse_name(name), rng).encode())


@pytest.mark.parametrize("path", sorted(REAL_SKELETONS.glob("*.skeleton")) or [None])
def test_real_files(path):
    need_shared()
    data = path.read_bytes()
    sk = both(data)
    assert sk.n_frames == len(sk.bodies_per_frame) == int(data.split()[0])
    assert sk.joints.shape == (int(sk.bodies_per_frame.sum()), 25, 12)
    assert (sk.body_ids > 2**56).all()  # real Kinect ids are 17-digit numbers


def test_real_malformed_file_is_rejected_with_its_line():
    need_shared(MALFORMED)
    line, reason = errors(MALFORMED.read_bytes())
    # frame 1, body 1, joint 2: line 1 frame count, 2 body count, 3 body, 4 joint count, 5 joint 1
    assert line == 6
    assert reason == "joint line (frame 1, body 1, joint 2) has 13 tokens, expected 12"


GOOD = text([[body()], [body()]])
LINES = GOOD.decode().splitlines()


def replace_line(n: int, new: str) -> bytes:
    lines = list(LINES)
    lines[n - 1] = new
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    "data, line, reason",
    [
        (b"", 1, "empty file"),
        (b"\n", 1, "frame-count line has 0 tokens, expected 1"),
        (b"-2\n", 1, "frame count must be a non-negative integer, got '-2'"),
        (GOOD[: GOOD.index(b"\n", 500)] + b"\n", 10, "file ends inside frame 1 of 2, body 1: joint 6 of 25 missing (truncated)"),
        (GOOD[:-40], 57, "joint line (frame 2, body 1, joint 25) has 6 tokens, expected 12: the file ends mid-line (truncated)"),
        (replace_line(1, "3"), 58, "file ends before the body count of frame 3 of 3 (truncated)"),
        (replace_line(30, "3"), 58, "file ends inside frame 2 of 2: body 2 of 3 missing (truncated)"),
        (replace_line(2, "4"), 30, "body line (frame 1, body 2) has 1 tokens, expected 10"),
        (replace_line(2, "-1"), 2, "expected a non-negative integer, got '-1'"),
        (replace_line(4, "24"), 4, "joint count is 24, expected 25"),
        (replace_line(7, JOINT + " 3"), 7, "joint line (frame 1, body 1, joint 3) has 13 tokens, expected 12"),
        (replace_line(7, JOINT.rsplit(" ", 1)[0]), 7, "joint line (frame 1, body 1, joint 3) has 11 tokens, expected 12"),
        (replace_line(8, JOINT.replace("3.785547", "nan")), 8, "non-finite value 'nan' in joint line"),
        (replace_line(8, JOINT.replace("3.785547", "-inf")), 8, "non-finite value '-inf' in joint line"),
        (replace_line(8, JOINT.replace("3.785547", "1e999")), 8, "non-finite value '1e999' in joint line"),
        (replace_line(8, JOINT.replace("3.785547", "3,78")), 8, "non-numeric value '3,78' in joint line"),
        (replace_line(3, BODY.replace("72057594037931101", "7.2e16")), 3, "body id must be a non-negative 64-bit integer, got '7.2e16'"),
        (replace_line(3, BODY + " 1"), 3, "body line (frame 1, body 1) has 11 tokens, expected 10"),
        (GOOD + b"1\n", 58, "unexpected content after the last of 2 declared frames"),
        (GOOD.replace(b"3.785547", b"3.78\xe9547", 1), 5, "non-numeric value '3.78?547' in joint line"),
        (bytes(range(256)) * 4, 1, "frame count must be a non-negative integer, got '?????????'"),
        (b"1\n1\n\x0b" + BODY.encode(), 4, "file ends before the joint count of frame 1 of 1 (truncated)"),
    ],
    ids=["empty", "blank", "negative-frames", "truncated-mid-frame", "truncated-mid-line",
         "frames-exceed-lines", "bodies-exceed-lines", "bodies-exceed-next-frame", "negative-bodies", "24-joints", "13-tokens",
         "11-tokens", "nan", "inf", "overflow", "comma", "float-id", "body-11-tokens", "trailing",
         "non-utf8", "binary", "vertical-tab"],
)  # fmt: skip
def test_malformed_content_is_rejected(data, line, reason):
    assert errors(data) == (line, reason)
