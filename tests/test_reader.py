"""The .skeleton reader: exact values, every line ending, only the asked-for fields converted but
every token checked, strict rejection with line numbers; the C reader's three joint-line paths
and the pure-Python reader agree on every result and every message."""

from __future__ import annotations

import importlib.util
import random

import numpy as np
import pytest
from conftest import MALFORMED, REAL_SKELETONS, REPO, need_shared

from skeleton.ntu import reader
from skeleton.ntu.names import parse_name
from skeleton.ntu.reader import ALL_COLUMNS, XYZ, SkeletonData, SkeletonFormatError, parse_skeleton
from skeleton.ntu.synth import sample_text

C_PATHS = (0, 1, 2, 3)  # _skelparse.parse path: best, word at a time, careful, whole line (SSE2)

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


def c_path(data: bytes, columns: tuple[int, ...], path: int) -> SkeletonData | tuple[int, str]:
    """One joint-line path of the C reader: the parsed data, or the error's (line, reason)."""
    try:
        n, bpf, ids, joints = reader._skelparse.parse(data, sum(1 << c for c in columns), path)
    except ValueError as exc:  # ValueError((line, reason)): args are line, reason
        return tuple(exc.args)
    return SkeletonData(
        n, np.frombuffer(bpf, np.int32), np.frombuffer(ids, np.int64),
        np.frombuffer(joints, np.float64).reshape(-1, 25, len(columns)), columns,
    )  # fmt: skip


def outcome(sk: SkeletonData | tuple[int, str]) -> tuple:
    if isinstance(sk, tuple):
        return ("error", *sk)
    parts = (sk.bodies_per_frame, sk.body_ids, sk.joints)
    return ("ok", sk.n_frames, sk.columns, sk.joints.shape, *(a.tobytes() for a in parts))


def python_outcome(data: bytes, columns: tuple[int, ...]) -> tuple:
    try:
        return outcome(reader._parse_python(data, "f.skeleton", columns))
    except SkeletonFormatError as exc:
        return ("error", exc.line, exc.problem)


def agree(data: bytes, columns: tuple[int, ...] = ALL_COLUMNS) -> tuple:
    """Every C path and the Python reader give the same data, or the same error."""
    assert reader._skelparse is not None, "the C reader was not built"
    want = python_outcome(data, columns)
    for path in C_PATHS:
        assert outcome(c_path(data, columns, path)) == want, f"C path {path} differs"
    return want


def both(data: bytes, columns: tuple[int, ...] = ALL_COLUMNS) -> SkeletonData:
    """Parse with the C reader and the pure-Python one; they must agree exactly."""
    agree(data, columns)
    fast = parse_skeleton(data, "f.skeleton", engine="c", columns=columns)
    slow = parse_skeleton(data, "f.skeleton", engine="python", columns=columns)
    assert outcome(fast) == outcome(slow)
    return fast


def errors(data: bytes) -> tuple[int, str]:
    out = []
    for engine in ("c", "python"):
        with pytest.raises(SkeletonFormatError) as e:
            parse_skeleton(data, "bad.skeleton", engine=engine)
        assert str(e.value).startswith(f"bad.skeleton:{e.value.line}: ")
        out.append((e.value.line, e.value.problem))
    assert out[0] == out[1], "C and Python readers disagree"
    agree(data)  # every C path says the same (before the mid-line note)
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
        (replace_line(8, JOINT.replace("3.785547", "3,78")), 8, "non-numeric value '3,...' in joint line"),
        (replace_line(3, BODY.replace("72057594037931101", "7.2e16")), 3, "body id must be a non-negative 64-bit integer, got '7.2e16'"),
        (replace_line(3, BODY + " 1"), 3, "body line (frame 1, body 1) has 11 tokens, expected 10"),
        (GOOD + b"1\n", 58, "unexpected content after the last of 2 declared frames"),
        (GOOD.replace(b"3.785547", b"3.78\xe9547", 1), 5, "non-numeric value '3.78\\xe9...' in joint line"),
        (bytes(range(256)) * 4, 1, "frame count must be a non-negative integer, got '\\x00...'"),
        (b"1\n1\n\x0b" + BODY.encode(), 4, "file ends before the joint count of frame 1 of 1 (truncated)"),
    ],
    ids=["empty", "blank", "negative-frames", "truncated-mid-frame", "truncated-mid-line",
         "frames-exceed-lines", "bodies-exceed-lines", "bodies-exceed-next-frame", "negative-bodies", "24-joints", "13-tokens",
         "11-tokens", "nan", "inf", "overflow", "comma", "float-id", "body-11-tokens", "trailing",
         "non-utf8", "binary", "vertical-tab"],
)  # fmt: skip
def test_malformed_content_is_rejected(data, line, reason):
    assert errors(data) == (line, reason)


@pytest.mark.parametrize("eol", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_malformed_content_same_reason_with_other_line_ends(eol):
    """CR-only files (which both public tools read, in text mode) are not one long line: every
    case above reads the same with CRLF or lone-CR line ends."""
    for data, line, reason in [
        (replace_line(7, JOINT + " 3"), 7, "joint line (frame 1, body 1, joint 3) has 13 tokens, expected 12"),
        (replace_line(8, JOINT.replace("3.785547", "nan")), 8, "non-finite value 'nan' in joint line"),
        (replace_line(30, "3"), 58, "file ends inside frame 2 of 2: body 2 of 3 missing (truncated)"),
        (GOOD[:-40], 57, "joint line (frame 2, body 1, joint 25) has 6 tokens, expected 12: the file ends mid-line (truncated)"),
        (GOOD + b"1\n", 58, "unexpected content after the last of 2 declared frames"),
    ]:  # fmt: skip
        assert errors(data.replace(b"\n", eol)) == (line, reason)


def test_cr_only_and_mixed_line_ends_read_as_lf():
    data = text([[body()], [], [body(), body(bid="7")]])
    lf = both(data)
    lines = data.split(b"\n")
    rng = random.Random(0)
    mixed = b"".join(line + rng.choice([b"\n", b"\r\n", b"\r"]) for line in lines[:-1])
    for variant in (data.replace(b"\n", b"\r"), mixed, data.rstrip(b"\n")):
        assert outcome(both(variant)) == outcome(lf)
    # a lone CR ends a line as in text mode, so a CR inside a line splits it
    line, reason = errors(replace_line(7, JOINT.replace(" 277.419", "\r277.419")))
    assert (line, reason) == (7, "joint line (frame 1, body 1, joint 3) has 3 tokens, expected 12")


def mmaction2_read_xyz():
    """MMAction2's own read_xyz (tools/data/skeleton/gen_ntu_rgbd_raw.py as its wheel ships it,
    in the consumer venv of .ci/mmaction-env.sh), run from that file; skip when absent."""
    spec = importlib.util.spec_from_file_location("bench_parse", REPO / "bench" / "parse.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = bench.default_mmaction2()
    if path is None:
        pytest.skip("MMAction2's gen_ntu_rgbd_raw.py not found (no consumer venv)")
    names = {"read_skeleton_filter", "get_nonzero_std", "read_xyz"}
    env = {"Dict": dict, "List": list, "Tuple": tuple, "Optional": None}
    return bench.load_functions(path, names, env)["read_xyz"]


def test_cr_only_real_file_reads_as_mmaction2_reads_it(tmp_path):
    need_shared()
    from skeleton.ntu.denoise import denoise

    src = REAL_SKELETONS / "S001C001P001R001A050.skeleton"  # two persons, LF
    cr = tmp_path / src.name
    cr.write_bytes(src.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    ours = denoise(reader.read_skeleton(str(cr), columns=XYZ), "energy")
    assert ours.tobytes() == denoise(reader.read_skeleton(str(src)), "energy").tobytes()
    theirs = mmaction2_read_xyz()(str(cr)).astype(np.float16)
    assert theirs.shape == ours.shape and theirs.tobytes() == ours.tobytes()


@pytest.mark.parametrize("columns", [XYZ, (5, 6), (0, 11), (3,), ALL_COLUMNS])
def test_only_the_asked_fields_are_kept(columns):
    need_shared()
    for path in sorted(REAL_SKELETONS.glob("*.skeleton"))[:4]:
        data = path.read_bytes()
        full, some = parse_skeleton(data), parse_skeleton(data, columns=columns)
        assert some.columns == columns and some.joints.shape[2] == len(columns)
        assert some.joints.tobytes() == np.ascontiguousarray(full.joints[:, :, columns]).tobytes()
    both(text([[body()], [body(), body(bid="7")]]), columns)


def test_fields_not_kept_are_still_checked():
    bad = replace_line(8, JOINT.replace("-0.2059419", "-0.20x9"))
    for columns in (XYZ, ALL_COLUMNS):
        for engine in ("c", "python"):
            with pytest.raises(
                SkeletonFormatError, match="non-numeric value '-0.20x...' in joint line"
            ):
                parse_skeleton(bad, "bad.skeleton", engine=engine, columns=columns)
        assert agree(bad, columns) == ("error", 8, "non-numeric value '-0.20x...' in joint line")
    huge = replace_line(8, JOINT.replace("-0.2059419", "1" + "0" * 400))  # past DBL_MAX
    assert agree(huge, XYZ) == ("error", 8, f"non-finite value '1{'0' * 19}...' in joint line")


@pytest.mark.parametrize("columns", [(), (2, 1), (12,), (0, 0)])
def test_bad_columns_are_refused(columns):
    with pytest.raises(ValueError, match="columns"):
        parse_skeleton(GOOD, columns=columns)


@pytest.mark.parametrize(
    "token, reason, shown",
    [("infinity", "non-finite", "infinity"), ("-Infinity", "non-finite", "-Infinity"),
     ("+nan", "non-finite", "+nan"), ("nanx", "non-numeric", "n..."),
     ("infinit", "non-numeric", "i..."), ("1_0", "non-numeric", "1_..."),
     (".e5", "non-numeric", ".e5"), ("1e", "non-numeric", "1e"), ("--1", "non-numeric", "--1"),
     ("1e5e5", "non-numeric", "1e5e5"), ("0x10", "non-numeric", "0x...")],
)  # fmt: skip
def test_token_verdicts_follow_python_float(token, reason, shown):
    """The verdict is float()'s; the message quotes the token up to its first byte that
    cannot be part of a number."""
    for col in (0, 7):  # converted and only checked
        fields = JOINT.split()
        fields[col] = token
        line, got = errors(replace_line(5, " ".join(fields)))
        assert (line, got) == (5, f"{reason} value '{shown}' in joint line")


# --- the three C paths and the Python reader on many odd but valid (and invalid) files ----

ODD_TOKENS = [
    "1e5", "-1E-05", "+.5", "5.", "-0", "-0.0", "00001.00001", "1e0005", "1E+22", "2.",
    "123456789012345678", "12345678901234567.8", "9007199254740993", "0.30000000000000004",
    "1" * 30, "0." + "1" * 25, "1" * 200 + ".5", "4.9e-324", "1.7976931348623157e308", "1e-400",
    ".", "-", "1.2.3", "1e+", "nan", "1e999", "9" * 309, "1,5", "\xe9", "e5", "++1", "1-", "1e5.",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\t", "\x0b", "\x0c", " \t "]
LINE_ENDS = ["\n", "\r\n", "\r", " \n", "\t\r\n", "\r\r\n", "\n\n"]


def mutated(rng: random.Random, lines: list[str]) -> bytes:
    lines = list(lines)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        toks = lines[i].split() or ["0"]
        k = rng.random()
        if k < 0.6:
            toks[rng.randrange(len(toks))] = rng.choice(ODD_TOKENS)
        elif k < 0.7:
            toks.insert(rng.randrange(len(toks) + 1), rng.choice(ODD_TOKENS))
        elif k < 0.8:
            toks.pop(rng.randrange(len(toks)))
        sep = rng.choice(SEPARATORS) if rng.random() < 0.3 else " "
        lines[i] = sep.join(toks) + (rng.choice(["", " ", "\r"]) if rng.random() < 0.2 else "")
    data = (rng.choice(LINE_ENDS) if rng.random() < 0.5 else "\n").join(lines).encode("latin-1")
    return data[: rng.randrange(len(data))] if rng.random() < 0.2 else data


def test_c_paths_and_python_agree_on_mutated_files():
    rng = random.Random(18)
    lines = text([[body()], [body(), body(bid="7")], [], [body()]]).decode().split("\n")
    kinds = set()
    for _ in range(400):
        columns = rng.choice([ALL_COLUMNS, XYZ, (5, 6), (0, 11)])
        kinds.add(agree(mutated(rng, lines), columns)[0])
    assert kinds == {"ok", "error"}


def random_number(rng: random.Random, plain: bool) -> str:
    """A random valid number; `plain`: without exponent (the whole-line path takes those)."""
    k = rng.uniform(0.3 if plain else 0, 1)
    if k < 0.3:
        v = np.frombuffer(rng.randbytes(8), np.float64)[0]
        v = v if np.isfinite(v) else 1.5
        return rng.choice([repr(float(v)), f"{v:.17g}", f"{v:.3e}", f"{v:.7g}", f"{v:E}"])
    if k < 0.6:
        return f"{rng.uniform(-5000, 5000):.{rng.randint(0, 12)}f}"
    if k < 0.8:
        return str(rng.randint(-(10 ** rng.randint(1, 25)), 10 ** rng.randint(1, 25)))
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 24)))
    cut = rng.randint(0, len(digits))
    tok = rng.choice(["", "-", "+"]) + digits[:cut] + "." + digits[cut:]
    return tok + (f"e{rng.randint(-330, 330)}" if rng.random() < 0.2 and not plain else "")


def test_values_equal_float_on_every_path():
    rng = random.Random(7)
    for _ in range(60):
        plain = [rng.random() < 0.5 for _ in range(25)]
        joints = [" ".join(random_number(rng, plain[j]) for _ in range(12)) for j in range(25)]
        data = text([[body(joints)], [body()]])  # a second body: room for the wide windows
        expect = [[float(t) for t in j.split()] for j in joints]
        if not np.isfinite(expect).all():
            continue
        sk = both(data)
        assert sk.joints[0].tobytes() == np.array(expect).tobytes()
