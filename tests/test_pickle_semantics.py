"""The safe loader reads what CPython reads: every pickle `skeleton.core.safeload` accepts (the
crafted corpus, hand-written opcode cases and a seeded mutation fuzz of real pickles) loads with
CPython's own unpickler, restricted to the same globals, in a separate process under a 3 GB
address-space cap (tests/pickle_reference.py), to equal data: the same types, values (float
bits included), numpy dtypes, shapes and bytes. Where CPython raises, the loader refuses.
~30 s on 2 cores.
"""

from __future__ import annotations

import json
import os
import pickle
import pickletools
import random
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skeleton.core import safeload
from skeleton.core.annotations import write_annotations

sys.path.insert(0, str(Path(__file__).parent))
import crafted_pickles  # noqa: E402
import pickle_reference  # noqa: E402

TESTS = Path(__file__).resolve().parent
P = pickle
SEED = 20240624
MUTANTS = 6000

# --- hand-written cases: each opcode's corner, as CPython's Modules/_pickle.c reads it --------


def _q(n: int) -> bytes:
    return struct.pack("<Q", n)


def _ints() -> dict[str, bytes]:
    texts = [b"0", b"1", b"00", b"01", b"+1", b"-0", b"+0", b"-1", b"010", b"-010", b"07",
             b"0x1f", b"0X1F", b"-0x10", b"9223372036854775807", b"9223372036854775808",
             b"-9223372036854775809", b"18446744073709551615", b"017777777777", b"020000000000",
             b"08", b" 5", b"5 ", b"1_0", b"0o7", b"0b1", b"0x", b"+", b"", b"5\x00"]  # fmt: skip
    cases = {f"int-{t!r}": b"I" + t + b"\n." for t in texts}
    longs = [b"5L", b"5", b"5LL", b"L", b"0x10L", b"0o17L", b"0b11L", b"010L", b"00L", b"-0L",
             b"1_000L", b" 5L", b"18446744073709551616L", b"-18446744073709551616L"]  # fmt: skip
    cases |= {f"long-{t!r}": b"L" + t + b"\n." for t in longs}
    floats = [b"1.5", b"-0.0", b"1e308", b"1e309", b"-1e309", b"1e-400", b"inf", b"-Infinity",
              b"nan", b"-nan", b"NaN", b".5", b"5.", b"1.e5", b"1_0", b" 1", b"1 ", b"0x1p3",
              b"1e", b"1.7976931348623158e308", b"1.7976931348623159e308"]  # fmt: skip
    cases |= {f"float-{t!r}": b"F" + t + b"\n." for t in floats}
    strings = [b"'abc'", b'"abc"', b"'a'b'", b"'\\x41\\101\\n\\t\\\\'", b"'\\q'", b"'\\777'",
               b"'\\400'", b"'\\377'", b"'\\x4'", b"'abc\\'", b"'\\''", b"'\xc3\xa9'", b"'a"]  # fmt: skip
    cases |= {f"string-{t!r}": b"S" + t + b"\n." for t in strings}
    return cases


def _memo_and_frames() -> dict[str, bytes]:
    c = crafted_pickles
    p4 = c.proto(4)
    return {
        "memo-sparse-put-then-memoize": p4 + c.s("a") + P.BINPUT + b"\x05" + c.s("b") + P.MEMOIZE
        + P.POP + P.POP + c.get(1) + P.STOP,
        "memo-memoize-overwrites": p4 + c.s("a") + P.BINPUT + b"\x01" + c.s("b") + P.MEMOIZE
        + c.s("c") + P.MEMOIZE + P.MARK + c.get(1) + P.LIST + P.STOP,
        "memo-memoize-after-put-0": p4 + c.s("a") + P.BINPUT + b"\x00" + c.s("b") + P.MEMOIZE
        + P.MARK + c.get(0) + c.get(1) + P.LIST + P.STOP,
        "memo-put-overwrite": p4 + c.s("a") + P.MEMOIZE + c.s("b") + P.BINPUT + b"\x00"
        + P.MARK + c.get(0) + P.LIST + P.STOP,
        "memo-text-put-get": b"(S'a'\np5\ng5\ng05\nl.",
        "memo-text-put-spaces": b"(S'a'\np 7 \ng7\nl.",
        "memo-hole": p4 + c.s("a") + P.BINPUT + b"\x02" + c.get(1) + P.STOP,
        "memo-far": p4 + c.s("a") + P.LONG_BINPUT + struct.pack("<I", 2**31 - 1) + P.STOP,
        "frame-exact": p4 + P.FRAME + _q(3) + P.NONE + P.POP + P.NONE + P.STOP,
        "frame-two": p4 + P.FRAME + _q(2) + P.NONE + P.POP + P.FRAME + _q(2) + P.NONE + P.STOP,
        "frame-straddle-binint": p4 + P.FRAME + _q(3) + P.BININT + b"\x01\x02\x03\x04" + P.STOP,
        "frame-straddle-text": p4 + P.FRAME + _q(3) + b"I12345\n" + P.STOP,
        "frame-straddle-unicode": p4 + P.FRAME + _q(4) + c.s("abcdef") + P.STOP,
        "frame-nested": p4 + P.FRAME + _q(20) + P.FRAME + _q(2) + P.NONE + P.STOP + b"\0" * 9,
        "frame-after-frame-end": p4 + P.FRAME + _q(1) + P.NONE + P.FRAME + _q(1) + P.STOP,
        "frame-zero": p4 + P.FRAME + _q(0) + P.NONE + P.STOP,
        "proto-builtin-2": c.proto(2) + c.call(c.glob("__builtin__", "set"), P.EMPTY_LIST)
        + P.STOP,
        "proto-builtin-3": c.proto(3) + c.call(c.glob("__builtin__", "set"), P.EMPTY_LIST)
        + P.STOP,
        "proto-builtin-none": c.call(c.glob("__builtin__", "frozenset"), P.EMPTY_LIST) + P.STOP,
        "proto-builtin-late": c.proto(2) + c.glob("__builtin__", "set") + c.proto(4)
        + P.EMPTY_TUPLE + P.REDUCE + P.STOP,
        "readonly-bytes": c.proto(5) + c.b(b"ab") + P.READONLY_BUFFER + P.STOP,
        "readonly-bytearray": c.proto(5) + P.BYTEARRAY8 + _q(1) + b"a" + P.READONLY_BUFFER
        + P.STOP,
        "dict-duplicate-keys": p4 + P.MARK + P.NEWTRUE + c.s("a") + c.i(1) + c.s("b")
        + P.BINFLOAT + struct.pack(">d", 1.0) + c.s("c") + P.DICT + P.STOP,
        "set-equal-members": p4 + P.EMPTY_SET + P.MARK + c.i(1) + P.NEWTRUE + P.ADDITEMS
        + P.STOP,
        "setitems-empty-on-list": p4 + P.EMPTY_LIST + P.MARK + P.SETITEMS + P.STOP,
        "appends-empty-on-int": p4 + c.i(1) + P.MARK + P.APPENDS + P.STOP,
    }  # fmt: skip


def _numpy() -> dict[str, bytes]:
    c = crafted_pickles

    def dtype(code: str, order: str, aligned: bytes = P.NEWFALSE, copy: bytes = P.NEWTRUE,
              **state: int) -> bytes:  # fmt: skip
        return (
            c.call(c.glob("numpy", "dtype"), c.s(code), aligned, copy)
            + c.dtype_state(order, **state)
            + P.BUILD
        )

    def array(dt: bytes, shape: tuple[int, ...], raw: bytes, fortran: bytes = P.NEWFALSE) -> bytes:
        return c.reconstruct() + c.tup(c.i(1), c.tup(*map(c.i, shape)), dt, fortran, raw) + P.BUILD

    scalar = c.glob("numpy.core.multiarray", "scalar")
    u2 = {"elsize": 8, "align": 4, "flags": 8}
    p2 = c.proto(2)
    return {
        "np-dtype-big": p2 + dtype("f8", ">") + P.STOP,
        "np-dtype-no-copy": p2 + dtype("f8", ">", copy=P.NEWFALSE) + P.STOP,
        "np-dtype-align": p2 + dtype("f8", ">", aligned=P.NEWTRUE) + P.STOP,
        "np-dtype-int1-big": p2 + dtype("i1", ">") + P.STOP,
        "np-dtype-bar-f8": p2 + dtype("f8", "|") + P.STOP,
        "np-array-big-endian": p2 + array(dtype("f4", ">"), (2, 2), c.b(bytes(range(16))))
        + P.STOP,
        "np-array-big-fortran": p2 + array(dtype("c8", ">"), (2, 1), c.b(bytes(range(16))),
                                           P.NEWTRUE) + P.STOP,
        "np-array-bytearray": c.proto(5) + array(dtype("u1", "|"), (2,), P.BYTEARRAY8 + _q(2)
                                                 + b"ab") + P.STOP,
        "np-array-latin1-text": p2 + array(dtype("u1", "|"), (2,), c.s("\xe9\xff")) + P.STOP,
        "np-reconstruct-z": p2 + c.call(c.glob("numpy.core.multiarray", "_reconstruct"),
                                        c.glob("numpy", "ndarray"), c.tup(c.i(0)), c.b(b"z"))
        + c.tup(c.i(1), c.tup(c.i(2)), dtype("u1", "|"), P.NEWFALSE, c.b(b"ab")) + P.BUILD
        + P.STOP,
        "np-scalar-bytearray": c.proto(5) + c.call(scalar, dtype("i1", "|"), P.BYTEARRAY8
                                                   + _q(1) + b"a") + P.STOP,
        "np-scalar-big": p2 + c.call(scalar, dtype("i4", ">"), c.b(b"\0\0\1\2")) + P.STOP,
        "np-str-scalar-big": p2 + c.call(scalar, dtype("U2", ">", **u2), c.b(b"\0\0\0a\0\0\0b"))
        + P.STOP,
        "np-str-scalar-nul": p2 + c.call(scalar, dtype("U2", "<", **u2), c.b(b"a\0\0\0\0\0\0\0"))
        + P.STOP,
        "np-frombuffer-big": c.proto(5) + c.call(c.glob("numpy._core.numeric", "_frombuffer"),
                                                 c.b(bytes(range(8))), dtype("f4", ">"),
                                                 c.tup(c.i(2)), c.s("C")) + P.STOP,
        "np-frombuffer-bytearray-f": c.proto(5) + c.call(
            c.glob("numpy._core.numeric", "_frombuffer"), P.BYTEARRAY8 + _q(8) + bytes(range(8)),
            dtype("u1", "|"), c.tup(c.i(2), c.i(4)), c.s("F")) + P.STOP,
    }  # fmt: skip


def _values() -> dict:
    """Annotation-like data in every type the loader builds."""
    kp = np.arange(2 * 3 * 17 * 2, dtype=np.float16).reshape(2, 3, 17, 2)
    name = "S001C001P001R001A001"
    return {
        "split": {"xsub_train": [name, name], "xsub_val": []},
        "annotations": [
            {"frame_dir": name, "label": 7, "total_frames": 3, "keypoint": kp,
             "keypoint_score": np.ones((2, 3, 17), np.float32), "img_shape": (1080, 1920),
             "original_shape": (1080, 1920)},
            {"frame_dir": "x\u00e9\U0001f600", "label": -3, "big": 2**63, "f": -0.0,
             "nan": float("nan"), "none": None, "t": True, "bytes": b"\x00\xff",
             "ba": bytearray(b"ab"), "set": {1, 2}, "fs": frozenset({"a"}), "c": 1 + 2j,
             "np": np.int64(-5), "npf": np.float32(1.5), "u": np.str_("label"),
             "be": np.arange(6, dtype=">i2").reshape(2, 3),
             "fortran": np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
             "bool": np.array([True, False]), "empty": np.zeros((0, 3), np.uint8),
             "nested": [[1, [2, (3, 4.5)]], {}]},
            {"arrays": [np.arange(3).astype(code) for code in sorted(safeload.PLAIN_DTYPES)],
             "big": [np.arange(3).astype(">" + c) for c in sorted(safeload.PLAIN_DTYPES)],
             "scalars": [np.arange(3).astype(code)[1] for code in sorted(safeload.PLAIN_DTYPES)]},
        ],
    }  # fmt: skip


def _bases(tmp: Path) -> dict[str, bytes]:
    """Real pickles: our AnnotationWriter's, and the stdlib pickler's in every protocol."""
    kp = np.arange(1 * 4 * 25 * 3, dtype=np.float16).reshape(1, 4, 25, 3)
    anns = [
        {"frame_dir": f"S001C001P001R001A00{k}", "label": k, "total_frames": 4, "keypoint": kp,
         "keypoint_score": np.full((1, 4, 25), 0.5, np.float16), "img_shape": (480, 640)}
        for k in range(1, 4)
    ]  # fmt: skip
    bases = {}
    write_annotations(tmp / "combined.pkl", anns, {"xsub_train": [a["frame_dir"] for a in anns]})
    write_annotations(tmp / "list.pkl", anns[:2])
    bases["writer-combined"] = (tmp / "combined.pkl").read_bytes()
    bases["writer-list"] = (tmp / "list.pkl").read_bytes()
    values = _values()
    for protocol in range(6):
        bases[f"stdlib-{protocol}"] = pickle.dumps(values, protocol=protocol)
    return bases


# --- mutation fuzz ------------------------------------------------------------------------------

# one value each: what the mutator puts where a value was, or pushes and pops again
_VALUES = [
    b"I010\n", b"I01\n", b"I00\n", b"I+1\n", b"I-0\n", b"I 5\n", b"I0x1F\n", b"I-12\n", b"I08\n",
    b"I99999999999999999999\n", b"I1_0\n", b"L12L\n", b"L0x10L\n", b"L5\n", b"L5LL\n",
    b"L010L\n", b"F1.5\n", b"F1e500\n", b"F-nan\n", b"Finf\n", b"F 1\n", b"F1_0\n", b"F.5e-3\n",
    b"S'abc'\n", b"S'\\x41\\101'\n", b"S'\\q'\n", b"S'\\777'\n", b"Vab\\u0041\n", b"N", b"\x88",
    b"\x89", b"K\x07", b"M\x01\x01", b"J\xff\xff\xff\xff", b"\x8a\x02\xff\x7f", b"\x8a\x00",
    b"\x8b\x00\x00\x00\x00", b"G\x7f\xf8\x00\x00\x00\x00\x00\x01", b"C\x02ab", b"U\x02ab",
    b"\x8c\x03abc", b"X\x01\x00\x00\x00a", b")", b"]", b"}", b"\x8f", b"(K\x01K\x02t",
    b"(K\x01\x88\x91", b"\x96\x01\x00\x00\x00\x00\x00\x00\x00a", b"C\x01a\x97",
    b"c__builtin__\nset\n(]tR", b"cbuiltins\ncomplex\n(K\x01F2.5\ntR",
    b"c_codecs\nencode\n(X\x02\x00\x00\x00\xc3\xa9X\x06\x00\x00\x00latin1tR",
    b"cbuiltins\nbytearray\n(C\x01xtR", b"h\x00", b"h\x01", b"g0\n", b"j\x00\x00\x00\x00",
]  # fmt: skip
# stack-neutral opcodes and sequences
_NEUTRAL = [
    b"\x94", b"q\x00", b"q\x01", b"q\x07", b"q\xff", b"r\x00\x01\x00\x00", b"p0\n", b"p3\n",
    b"p-1\n", b"2", b"20", b"(0", b"\x80\x02", b"\x80\x03", b"\x80\x05", b"\x80\x09",
    b"h\x000", b"(1", b"\x97",
]  # fmt: skip


def _ops(data: bytes) -> list[tuple[int, int, Any]]:
    """(start, end, opcode) of each opcode of a valid pickle."""
    ops = list(pickletools.genops(data))
    out = []
    for k, (op, _arg, pos) in enumerate(ops):
        end = ops[k + 1][2] if k + 1 < len(ops) else len(data)
        out.append((pos, end, op))
    return out


def _mutant(rng: random.Random, data: bytes, ops: list[tuple[int, int, Any]]) -> bytes:
    edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement) in `data`
    for _ in range(rng.choice((1, 1, 2, 3))):
        start, end, op = rng.choice(ops)
        kind = rng.randrange(9)
        if kind == 0:  # a byte anywhere
            k = rng.randrange(len(data))
            edits.append((k, k + 1, bytes([rng.randrange(256)])))
        elif kind == 1:  # a bit in an opcode's argument
            k = rng.randrange(start, end)
            edits.append((k, k + 1, bytes([data[k] ^ (1 << rng.randrange(8))])))
        elif kind == 2:  # bytes gone
            k = rng.randrange(len(data))
            edits.append((k, k + rng.randint(1, 8), b""))
        elif kind == 3 and not op.stack_before and len(op.stack_after) == 1 and op.name != "MARK":
            edits.append((start, end, rng.choice(_VALUES)))  # another value in its place
        elif kind == 4:  # a value pushed and popped, or a neutral opcode, before this one
            snippet = rng.choice(_VALUES) + b"0" if rng.random() < 0.5 else rng.choice(_NEUTRAL)
            edits.append((start, start, snippet))
        elif kind == 5:  # a frame up to a later opcode (or off by a little)
            later = rng.choice([e for s, e, _ in ops if s >= start])
            n = later - start + rng.choice((0, 0, 0, -1, 1, 5))
            edits.append((start, start, P.FRAME + _q(max(n, 0))))
        elif kind == 6:  # an opcode copied to another place
            s2, e2, _ = rng.choice(ops)
            edits.append((start, start, data[s2:e2]))
        elif kind == 7:  # a memo reference in a value's place
            if not op.stack_before and len(op.stack_after) == 1 and op.name != "MARK":
                edits.append((start, end, rng.choice((b"h", b"h", b"j")) + bytes([rng.randrange(
                    12)]) + (b"\x00\x00\x00" if rng.random() < 0.3 else b"")))  # fmt: skip
        else:  # an opcode byte replaced by another opcode byte
            edits.append((start, start + 1, bytes([rng.choice(_OPCODE_BYTES)])))
    out = data
    for start, end, new in sorted(edits, key=lambda e: -e[0]):
        out = out[:start] + new + out[end:]
    return out


_OPCODE_BYTES = sorted({op.code.encode("latin-1")[0] for op in pickletools.opcodes})


def _fuzz(bases: dict[str, bytes], count: int) -> dict[str, bytes]:
    rng = random.Random(SEED)
    names = sorted(bases)
    ops = {name: _ops(bases[name]) for name in names}
    out = {}
    for k in range(count):
        name = names[k % len(names)]
        out[f"fuzz-{k}-{name}"] = _mutant(rng, bases[name], ops[name])
    return out


# --- the comparison -----------------------------------------------------------------------------


def _ours(data: bytes) -> tuple[bool, str]:
    try:
        return True, repr(pickle_reference.canon(safeload.loads(data, "x.pkl")))
    except safeload.PickleError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith("x.pkl: "), message
        return False, message


def _reference(tmp: Path, pickles: list[bytes]) -> list[dict]:
    pickle_reference.write_pickles(str(tmp / "in.bin"), pickles)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    subprocess.run(
        [sys.executable, str(TESTS / "pickle_reference.py"), tmp / "in.bin", tmp / "out.jsonl"],
        check=True,
        env=env,
        timeout=1800,
    )
    lines = (tmp / "out.jsonl").read_text().splitlines()
    assert len(lines) == len(pickles), "the reference process stopped early"
    return [json.loads(line) for line in lines]


def _differences(tmp: Path, corpus: dict[str, bytes]) -> tuple[list[str], int]:
    accepted = {}
    for name, data in corpus.items():
        ok, value = _ours(data)
        if ok:
            accepted[name] = value
    names = sorted(accepted)
    results = _reference(tmp, [corpus[name] for name in names])
    problems = []
    for name, result in zip(names, results, strict=True):
        if not result["ok"]:
            problems.append(f"{name}: loaded, but CPython raises {result['error']}")
        elif result["canon"] != accepted[name]:
            problems.append(
                f"{name}: loaded {accepted[name][:300]}; CPython reads {result['canon'][:300]}"
            )
    return problems, len(accepted)


def _report(problems: list[str], corpus: dict[str, bytes]) -> str:
    lines = []
    for line in problems[:20]:
        lines.append(line)
        lines.append(f"    bytes: {corpus[line.split(':')[0]][:200]!r}")
    return "\n".join(lines) + f"\n({len(problems)} differences)"


def test_hand_written_opcode_cases_read_as_cpython_reads_them(tmp_path: Path) -> None:
    corpus = _ints() | _memo_and_frames() | _numpy()
    problems, accepted = _differences(tmp_path, corpus)
    assert not problems, _report(problems, corpus)
    # the forms real pickles use load; CPython's bools from INT too
    for name, want in [("int-b'010'", 8), ("int-b'01'", True), ("int-b'+1'", True),
                       ("int-b'-0'", False), ("long-b'0x10L'", 16),
                       ("memo-sparse-put-then-memoize", "b")]:  # fmt: skip
        got = safeload.loads(corpus[name])
        assert got == want and type(got) is type(want), name
    assert safeload.loads(corpus["np-array-big-endian"]).dtype == np.dtype("<f4")
    assert accepted > 40


def test_crafted_corpus_reads_as_cpython_reads_it(tmp_path: Path) -> None:
    corpus = crafted_pickles.crafted(str(tmp_path / "PWNED")) | crafted_pickles.benign()
    problems, accepted = _differences(tmp_path, corpus)
    assert not problems, _report(problems, corpus)
    assert accepted >= len(crafted_pickles.benign())
    assert not (tmp_path / "PWNED").exists()


@pytest.fixture(scope="module")
def fuzz_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    bases = _bases(tmp_path_factory.mktemp("bases"))
    for name, data in bases.items():  # the unmutated ones load, equal to CPython's
        assert _ours(data)[0], name
    return bases | _fuzz(bases, MUTANTS)


def test_mutated_real_pickles_read_as_cpython_reads_them(
    tmp_path: Path, fuzz_corpus: dict[str, bytes]
) -> None:
    problems, accepted = _differences(tmp_path, fuzz_corpus)
    assert not problems, _report(problems, fuzz_corpus)
    assert accepted > MUTANTS // 10, f"only {accepted} mutants load: the fuzz tests little"
