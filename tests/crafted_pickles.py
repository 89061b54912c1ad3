"""A corpus of crafted pickles: what an attacker (or a broken disk) hands the pickle readers.

`crafted(marker)` returns {name: bytes}; none of them is a valid annotation pickle and every
pickle-reading command must refuse (exit 2) or reject (exit 1) each with one line, no signal,
no traceback, no address, nothing executed (payloads would create `marker`) and nothing written
outside the output folder. `benign()` returns valid annotation pickles written in unusual but
legitimate ways (protocol 0, numpy 1.x names, big-endian, Fortran order, memo sharing), which
must still load. Names start with their family: call- (every opcode route to a callable), dtype-,
buffer-, bomb-, odd- (odd types and shapes), path- (split names that are paths), corrupt-.
"""

from __future__ import annotations

import pickle
import struct

import numpy as np

P = pickle


# --- opcode helpers -------------------------------------------------------------------------


def proto(n: int = 4) -> bytes:
    return P.PROTO + bytes([n])


def s(text: str) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    if len(data) < 256:
        return P.SHORT_BINUNICODE + bytes([len(data)]) + data
    return P.BINUNICODE + struct.pack("<I", len(data)) + data


def b(data: bytes) -> bytes:
    if len(data) < 256:
        return P.SHORT_BINBYTES + bytes([len(data)]) + data
    return P.BINBYTES + struct.pack("<I", len(data)) + data


def i(n: int) -> bytes:
    if 0 <= n < 256:
        return P.BININT1 + bytes([n])
    if -(2**31) <= n < 2**31:
        return P.BININT + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return P.LONG4 + struct.pack("<i", len(raw)) + raw


def glob(module: str, name: str) -> bytes:
    return P.GLOBAL + module.encode() + b"\n" + name.encode() + b"\n"


def stack_glob(module: str, name: str) -> bytes:
    return s(module) + s(name) + P.STACK_GLOBAL


def tup(*items: bytes) -> bytes:
    return P.MARK + b"".join(items) + P.TUPLE


def call(func: bytes, *args: bytes) -> bytes:
    return func + tup(*args) + P.REDUCE


def get(k: int) -> bytes:
    return P.BINGET + bytes([k]) if k < 256 else P.LONG_BINGET + struct.pack("<I", k)


def put(k: int) -> bytes:
    return P.BINPUT + bytes([k]) if k < 256 else P.LONG_BINPUT + struct.pack("<I", k)


def dtype_(code: str, state: bytes | None = None) -> bytes:
    state = state if state is not None else dtype_state("<" if code[1:] not in ("1",) else "|")
    return call(glob("numpy", "dtype"), s(code), P.NEWFALSE, P.NEWTRUE) + state + P.BUILD


def dtype_state(
    order: str = "<",
    *,
    names: bytes = P.NONE,
    fields: bytes = P.NONE,
    sub: bytes = P.NONE,
    elsize: int = -1,
    align: int = -1,
    flags: int = 0,
    version: int = 3,
) -> bytes:
    return tup(i(version), s(order), sub, names, fields, i(elsize), i(align), i(flags))


def reconstruct(subtype: bytes | None = None) -> bytes:
    subtype = subtype if subtype is not None else glob("numpy", "ndarray")
    return call(glob("numpy.core.multiarray", "_reconstruct"), subtype, tup(i(0)), b(b"b"))


def array_(shape: tuple[int, ...], dtype: bytes, raw: bytes, fortran: bool = False) -> bytes:
    """An array from `_reconstruct` + BUILD; `raw` is the data (bytes) or an opcode (op(...))."""
    shape_b = tup(*(i(n) for n in shape))
    flag = P.NEWTRUE if fortran else P.NEWFALSE
    data = raw.op if isinstance(raw, op) else b(raw)
    return reconstruct() + tup(i(1), shape_b, dtype, flag, data) + P.BUILD


class op(bytes):
    """Pickle opcodes standing for an array's data (instead of the data's bytes)."""

    @property
    def op(self) -> bytes:
        return bytes(self)


def annotation(keypoint: bytes, name: str = "S001C001P001R001A001", **extra: bytes) -> bytes:
    fields = {"frame_dir": s(name), "label": i(0), "keypoint": keypoint, "total_frames": i(2)}
    fields.update(extra)
    return P.MARK + b"".join(s(k) + v for k, v in fields.items()) + P.DICT


def combined(ann: bytes, split: bytes | None = None) -> bytes:
    split = (
        split
        if split is not None
        else P.MARK + s("train") + P.MARK + s("S001C001P001R001A001") + P.LIST + P.DICT
    )
    return (
        proto()
        + P.MARK
        + s("split")
        + split
        + s("annotations")
        + P.MARK
        + ann
        + P.LIST
        + (P.DICT + P.STOP)
    )


def good_keypoint() -> bytes:
    raw = np.zeros((1, 2, 25, 3), np.float16).tobytes()
    return array_((1, 2, 25, 3), dtype_("f2"), raw)


def wrap(value: bytes) -> bytes:
    """An otherwise valid combined pickle whose first annotation's label is `value`."""
    return combined(annotation(good_keypoint(), label=value))


def with_keypoint(value: bytes) -> bytes:
    return combined(annotation(value))


# --- the corpus -----------------------------------------------------------------------------


def _callables(marker: str) -> dict[str, bytes]:
    touch = f"touch {marker}"
    code = f"open({marker!r}, 'w').close()"
    c: dict[str, bytes] = {}
    for mod, name, arg in [
        ("os", "system", s(touch)),
        ("posix", "system", s(touch)),
        ("builtins", "eval", s(code)),
        ("builtins", "exec", s(code)),
        ("__builtin__", "eval", s(code)),
        ("builtins", "getattr", glob("builtins", "open") + s("__call__")),
        ("builtins", "__import__", s("os")),
        ("subprocess", "call", P.MARK + s("touch") + s(marker) + P.LIST),
        ("numpy", "load", s(marker)),
        ("numpy.testing._private.utils", "runstring", s(code) + P.EMPTY_DICT),
        ("copyreg", "_reconstructor", glob("os", "system") + glob("builtins", "str") + s(touch)),
        ("builtins", "dict", P.EMPTY_TUPLE),  # harmless, still not on the list
        ("builtins", "list", P.EMPTY_TUPLE),
        ("numpy", "frombuffer", b(b"\x00" * 8) + s("O")),
        ("numpy.core.multiarray", "fromstring", s("x")),
        ("numpy.lib.format", "read_array", s(marker)),
        ("pickle", "loads", b(b"cos\nsystem\n(S'true'\ntR.")),
        ("numpy", "ndarray", tup(i(1000), i(1000), i(1000))),  # uninitialised 4 GB
        ("numpy._core.multiarray", "_reconstruct", glob("numpy.ma", "MaskedArray")),
    ]:
        c[f"call-reduce-{mod}.{name}"] = proto(2) + call(glob(mod, name), arg) + P.STOP
        c[f"call-stack-global-{mod}.{name}"] = proto(4) + call(stack_glob(mod, name), arg) + P.STOP
    c["call-in-annotation"] = wrap(call(glob("os", "system"), s(touch)))
    c["call-inst"] = b"(S'" + touch.encode() + b"'\nios\nsystem\n."
    c["call-obj"] = b"(cos\nsystem\nS'" + touch.encode() + b"'\no."
    c["call-newobj"] = proto(2) + glob("subprocess", "Popen") + tup(s("true")) + P.NEWOBJ + P.STOP
    c["call-newobj-ex"] = (
        proto(4)
        + glob("subprocess", "Popen")
        + tup(s("true"))
        + P.EMPTY_DICT
        + P.NEWOBJ_EX
        + P.STOP
    )
    c["call-newobj-allowed-class"] = (
        proto(2) + glob("builtins", "set") + P.EMPTY_TUPLE + (P.NEWOBJ + P.STOP)
    )
    c["call-ext1"] = proto(2) + P.EXT1 + b"\x01" + P.STOP
    c["call-ext2"] = proto(2) + P.EXT2 + b"\x01\x00" + P.STOP
    c["call-ext4"] = proto(2) + P.EXT4 + b"\x01\x00\x00\x00" + P.STOP
    c["call-persid"] = b"Pos.system\n."
    c["call-binpersid"] = proto(2) + s("x") + P.BINPERSID + P.STOP
    c["call-next-buffer"] = proto(5) + P.NEXT_BUFFER + P.STOP
    c["call-build-setstate-dict"] = proto(2) + P.EMPTY_DICT + P.EMPTY_DICT + P.BUILD + P.STOP
    c["call-build-on-list"] = proto(2) + P.EMPTY_LIST + s("x") + P.BUILD + P.STOP
    c["call-build-on-array"] = proto(2) + good_keypoint() + P.EMPTY_DICT + P.BUILD + P.STOP
    c["call-build-twice"] = proto(2) + good_keypoint() + tup(i(1)) + P.BUILD + P.STOP
    c["call-reduce-non-global"] = proto(2) + s("os.system") + tup(s(touch)) + P.REDUCE + P.STOP
    c["call-reduce-list-args"] = (
        proto(2) + glob("builtins", "set") + P.EMPTY_LIST + P.REDUCE + (P.STOP)
    )
    c["call-global-as-value"] = proto(2) + glob("builtins", "set") + P.STOP
    c["call-global-in-list"] = proto(2) + P.MARK + glob("numpy", "ndarray") + P.LIST + P.STOP
    c["call-global-in-tuple"] = proto(2) + tup(glob("numpy", "dtype")) + P.STOP
    c["call-codecs-other"] = (
        proto(2) + call(glob("_codecs", "encode"), s("x"), s("rot13")) + (P.STOP)
    )
    c["call-global-long-name"] = proto(2) + glob("a" * 5000, "b") + P.STOP
    c["call-global-nonutf8"] = proto(2) + P.GLOBAL + b"o\xffs\nsystem\n" + P.STOP
    c["call-global-newline-name"] = proto(4) + call(stack_glob("os\n", "system\x1b[2J"), s("x"))
    return c


def _dtypes() -> dict[str, bytes]:
    c: dict[str, bytes] = {}
    raw8 = b"\x00" * 8
    for code in ["O", "O8", "V8", "U2", "S8", "M8", "m8", "f16", "c32", "f8,i4", "a8", "b", "?"]:
        c[f"dtype-code-{code}"] = with_keypoint(array_((1,), dtype_(code), raw8))
    # the trick: a dtype state with an object field while the flags say "no objects"
    obj_fields = (
        P.MARK
        + s("x")
        + tup(call(glob("numpy", "dtype"), s("O8"), P.NEWFALSE, P.NEWTRUE), i(0))
        + P.DICT
    )
    states = {
        "fields-object": dtype_state(
            "|", names=tup(s("x")), fields=obj_fields, elsize=8, align=8, flags=0
        ),
        "fields-hasobject-flag": dtype_state(
            "|", names=tup(s("x")), fields=obj_fields, elsize=8, align=8, flags=63
        ),
        "names-only": dtype_state(names=tup(s("x"))),
        "subarray": dtype_state(sub=tup(dtype_("f8"), tup(i(1000000)))),
        "elsize": dtype_state(elsize=1 << 30),
        "align": dtype_state(align=64),
        "flags": dtype_state(flags=0x1F),
        "version4": dtype_state(version=4),
        "order-bar": dtype_state("|"),
        "order-bad": dtype_state("X"),
        "not-tuple": P.EMPTY_LIST,
        "short": tup(i(3), s("<")),
        "array-as-int": tup(good_keypoint(), s("<"), P.NONE, P.NONE, P.NONE, i(-1), i(-1), i(0)),
    }
    for name, state in states.items():
        c[f"dtype-state-{name}"] = with_keypoint(array_((1,), dtype_("f8", state), raw8))
    c["dtype-unbuilt-used"] = with_keypoint(
        reconstruct()
        + tup(i(1), tup(i(1)), call(glob("numpy", "dtype"), s("f8")), P.NEWFALSE, b(raw8))
        + P.BUILD
    )
    c["dtype-build-twice"] = with_keypoint(
        array_((1,), dtype_("f8") + dtype_state() + P.BUILD, raw8)
    )
    c["dtype-typestr-bytes"] = with_keypoint(
        array_((1,), call(glob("numpy", "dtype"), b(b"f8")) + dtype_state() + P.BUILD, raw8)
    )
    c["dtype-is-a-str"] = with_keypoint(array_((1,), s("f8"), raw8))
    c["dtype-scalar-object"] = wrap(
        call(glob("numpy.core.multiarray", "scalar"), dtype_("O8"), glob("os", "system"))
    )
    u2 = call(glob("numpy", "dtype"), s("U2"), P.NEWFALSE, P.NEWTRUE)
    scalar = glob("numpy.core.multiarray", "scalar")
    u2_state = dtype_state("<", elsize=8, align=4, flags=8)
    c["dtype-str-scalar-short"] = wrap(call(scalar, u2 + u2_state + P.BUILD, b(b"a\x00")))
    c["dtype-str-scalar-bad-code-point"] = wrap(
        call(scalar, u2 + u2_state + P.BUILD, b(struct.pack("<2I", 0x110000, 0xD800)))
    )
    c["dtype-str-state-elsize"] = wrap(
        call(scalar, u2 + dtype_state("<", elsize=4000, align=4, flags=8) + P.BUILD, b(b"\0" * 8))
    )
    c["dtype-str-array"] = with_keypoint(array_((1,), u2 + u2_state + P.BUILD, b"a\0\0\0b\0\0\0"))
    c["dtype-stringdtype"] = with_keypoint(
        call(glob("numpy._core._internal", "_convert_to_stringdtype_kwargs"), i(0))
    )
    c["dtype-frombuffer-object"] = with_keypoint(
        call(glob("numpy._core.numeric", "_frombuffer"), b(raw8), dtype_("O8"), tup(i(1)), s("C"))
    )
    return c


def _buffers() -> dict[str, bytes]:
    c: dict[str, bytes] = {}
    f8 = dtype_("f8")
    for name, shape, raw in [
        ("short", (1, 2, 25, 3), b"\x00" * 16),
        ("long", (1,), b"\x00" * 64),
        ("empty-for-big", (1000, 1000, 1000), b""),
        ("overflow", (2**62, 2**62, 4), b"\x00" * 8),
        ("negative", (-1, 2), b"\x00" * 8),
        ("ndim-40", (1,) * 40, b"\x00" * 8),
        ("zero-times-huge", (0, 2**62), b""),  # no data, but strides beyond 64 bits
    ]:
        c[f"buffer-{name}"] = with_keypoint(array_(shape, f8, raw))
    c["buffer-raw-list"] = with_keypoint(array_((1,), f8, op(P.MARK + i(1) + P.LIST)))
    c["buffer-raw-int"] = with_keypoint(array_((1,), f8, op(i(7))))
    c["buffer-raw-nonlatin1"] = with_keypoint(array_((2,), dtype_("u1"), op(s("\u20ac\u20ac"))))
    c["buffer-shape-float"] = with_keypoint(
        reconstruct()
        + tup(i(1), tup(P.BINFLOAT + struct.pack(">d", 1.0)), f8, P.NEWFALSE, b(b"\x00" * 8))
        + P.BUILD
    )
    c["buffer-shape-list"] = with_keypoint(
        reconstruct() + tup(i(1), P.MARK + i(1) + P.LIST, f8, P.NEWFALSE, b(b"\x00" * 8)) + P.BUILD
    )
    c["buffer-state-version"] = with_keypoint(
        reconstruct() + tup(i(9), tup(i(1)), f8, P.NEWFALSE, b(b"\x00" * 8)) + P.BUILD
    )
    c["buffer-state-long"] = with_keypoint(
        reconstruct() + tup(i(1), tup(i(1)), f8, P.NEWFALSE, b(b"\x00" * 8), i(0)) + P.BUILD
    )
    c["buffer-fortran-flag"] = with_keypoint(
        reconstruct() + tup(i(1), tup(i(1)), f8, i(5), b(b"\x00" * 8)) + P.BUILD
    )
    c["buffer-bool-bytes"] = with_keypoint(array_((4,), dtype_("b1"), b"\x00\x01\x02\xff"))
    c["buffer-reconstruct-shape"] = with_keypoint(
        call(
            glob("numpy.core.multiarray", "_reconstruct"),
            glob("numpy", "ndarray"),
            tup(i(10**9)),
            b(b"b"),
        )
        + tup(i(1), tup(i(1)), f8, P.NEWFALSE, b(b"\x00" * 8))
        + P.BUILD
    )
    c["buffer-unbuilt-array"] = with_keypoint(reconstruct())
    for name, args in [
        ("short", (b(b"\x00" * 8), f8, tup(i(2), i(25)), s("C"))),
        ("order", (b(b"\x00" * 8), f8, tup(i(1)), s("X"))),
        ("order-array", (b(b"\x00" * 8), f8, tup(i(1)), good_keypoint())),
        ("not-bytes", (s("x" * 8), f8, tup(i(1)), s("C"))),
        ("huge-shape", (b(b""), f8, tup(i(2**40), i(2**40)), s("C"))),
    ]:
        c[f"buffer-frombuffer-{name}"] = with_keypoint(
            call(glob("numpy._core.numeric", "_frombuffer"), *args)
        )
    c["buffer-scalar-short"] = wrap(
        call(glob("numpy.core.multiarray", "scalar"), dtype_("f8"), b(b"\x00"))
    )
    c["buffer-scalar-long"] = wrap(
        call(glob("numpy.core.multiarray", "scalar"), dtype_("i8"), b(b"\x00" * 4096))
    )
    c["buffer-binbytes8-claims-huge"] = (
        proto(4) + P.BINBYTES8 + struct.pack("<Q", 2**62) + (b"\x00" * 16)
    )
    c["buffer-binunicode8-claims-huge"] = proto(4) + P.BINUNICODE8 + struct.pack("<Q", 2**40)
    c["buffer-bytearray8-claims-huge"] = proto(5) + P.BYTEARRAY8 + struct.pack("<Q", 2**63 - 1)
    c["buffer-binbytes-claims-4g"] = proto(3) + P.BINBYTES + struct.pack("<I", 2**32 - 1) + b"x"
    c["buffer-frame-huge"] = proto(4) + P.FRAME + struct.pack("<Q", 2**62) + P.NONE + P.STOP
    c["buffer-binstring-negative"] = proto(1) + P.BINSTRING + struct.pack("<i", -5) + P.STOP
    return c


def _bombs() -> dict[str, bytes]:
    c: dict[str, bytes] = {}
    # billion laughs: each level is a list of ten references to the level below
    laughs = proto(4) + s("x" * 200) + put(0)
    for level in range(1, 12):
        laughs += P.MARK + get(level - 1) * 10 + P.LIST + put(level)
    c["bomb-memo-fanout-list"] = laughs + P.STOP
    c["bomb-memo-fanout-in-split"] = combined(
        annotation(good_keypoint()),
        P.MARK + s("train") + laughs[2:] + P.DICT,
    )
    tuples = proto(4) + P.EMPTY_TUPLE + put(0)
    for level in range(1, 64):
        tuples += get(level - 1) + get(level - 1) + P.TUPLE2 + put(level)
    c["bomb-memo-fanout-tuple"] = tuples + P.STOP
    c["bomb-fanout-annotations"] = (
        proto(4)
        + annotation(good_keypoint())
        + put(0)
        + P.POP
        + (P.MARK + s("split") + P.EMPTY_DICT + s("annotations") + P.EMPTY_LIST)
        + (P.MARK + get(0) * 1000 + P.APPENDS) * 600
        + P.DICT
        + P.STOP
    )
    big = np.zeros(1 << 20, np.uint8).tobytes()
    c["bomb-array-copies"] = (
        proto(4)
        + b(big)
        + put(0)
        + P.MARK
        + (array_((len(big),), dtype_("u1"), op(get(0)))) * 400
        + P.LIST
        + P.STOP
    )
    c["bomb-set-copies"] = (
        proto(4)
        + P.MARK
        + i(1) * 2
        + b"".join(i(n) for n in range(2, 30000))
        + P.LIST
        + put(0)
        + P.MARK
        + (call(glob("builtins", "set"), get(0))) * 3000
        + P.LIST
        + P.STOP
    )
    c["bomb-deep-lists"] = proto(2) + P.MARK * 200_000 + P.LIST * 200_000 + P.STOP
    c["bomb-deep-tuples"] = proto(2) + P.MARK * 100_000 + P.TUPLE * 100_000 + P.STOP
    c["bomb-deep-dicts"] = (
        proto(2) + (P.MARK + s("k")) * 50_000 + P.EMPTY_DICT + (P.DICT) * 50_000 + P.STOP
    )
    c["bomb-deep-in-label"] = wrap(P.MARK * 100_000 + P.LIST * 100_000)
    c["bomb-marks-only"] = proto(2) + P.MARK * 2_000_000 + P.NONE + P.STOP
    c["bomb-int-20000-digits"] = b"L" + b"9" * 20000 + b"L\n."
    c["bomb-int-text"] = b"I" + b"7" * 20000 + b"\n."
    c["bomb-long4-100k"] = (
        proto(2) + P.LONG4 + struct.pack("<i", 100_000) + b"\xff" * 100_000 + (P.STOP)
    )
    c["bomb-long1-255"] = wrap(P.LONG1 + b"\xff" + b"\x7f" * 255)
    c["bomb-huge-label"] = wrap(i(2**100))
    c["bomb-float-text"] = b"F" + b"1" * 100_000 + b"\n."
    c["bomb-memo-index-huge"] = proto(2) + P.NONE + P.LONG_BINPUT + b"\xff\xff\xff\x7f" + P.STOP
    c["bomb-memo-many"] = proto(4) + P.NONE + P.MEMOIZE * 3_000_000 + P.STOP
    c["bomb-dup"] = proto(4) + P.MARK + s("y" * 1000) + P.DUP * 1_000_000 + P.LIST + P.STOP
    keys = b"".join(
        tup(*(i(-1) if (k >> j) & 1 else i(-2) for j in range(16))) + P.NONE for k in range(4000)
    )
    c["bomb-hash-collision-keys"] = proto(2) + P.MARK + keys + P.DICT + P.STOP
    c["bomb-string-repeat"] = (
        proto(4) + s("z" * 60000) + put(0) + P.MARK + get(0) * 40000 + (P.LIST + P.STOP)
    )
    return c


def _odd() -> dict[str, bytes]:
    c: dict[str, bytes] = {}
    for name, value in [
        ("int", i(5)),
        ("none", P.NONE),
        ("str", s("annotations")),
        ("bytes", b(b"\x00\xff")),
        ("set", P.EMPTY_SET + P.MARK + i(1) + P.ADDITEMS),
        ("frozenset", P.MARK + s("a") + P.FROZENSET),
        ("complex", call(glob("builtins", "complex"), i(1), i(2))),
        ("tuple", tup(s("split"), s("annotations"))),
        ("bytearray", proto(5)[2:] + P.BYTEARRAY8 + struct.pack("<Q", 3) + b"abc"),
        ("array", good_keypoint()),
        ("list-of-ints", P.MARK + i(1) + i(2) + P.LIST),
        ("list-of-lists", P.MARK + P.EMPTY_LIST + P.MARK + i(3) + P.LIST + P.LIST),
        ("list-of-none", P.MARK + P.NONE * 3 + P.LIST),
        (
            "annotations-dict",
            P.MARK
            + s("split")
            + P.EMPTY_DICT
            + s("annotations")
            + P.MARK
            + s("a")
            + i(1)
            + P.DICT
            + P.DICT,
        ),
        (
            "annotations-str",
            P.MARK + s("split") + P.EMPTY_DICT + s("annotations") + s("x") + P.DICT,
        ),
        (
            "annotations-set",
            P.MARK + s("split") + P.EMPTY_DICT + s("annotations") + P.EMPTY_SET + P.DICT,
        ),
    ]:
        c[f"odd-top-{name}"] = proto(5) + value + P.STOP
    ann = good_keypoint()
    c["odd-split-list"] = combined(annotation(ann), P.MARK + s("x") + P.LIST)
    c["odd-split-values-int"] = combined(annotation(ann), P.MARK + s("train") + i(3) + P.DICT)
    c["odd-split-values-nested"] = combined(
        annotation(ann), P.MARK + s("train") + P.MARK + P.MARK + s("a") + P.LIST + P.LIST + P.DICT
    )
    c["odd-split-values-dict"] = combined(
        annotation(ann), P.MARK + s("train") + P.MARK + s("a") + i(1) + P.DICT + P.DICT
    )
    c["odd-split-values-array"] = combined(annotation(ann), P.MARK + s("train") + ann + P.DICT)
    c["odd-split-name-int"] = combined(
        annotation(ann), P.MARK + i(7) + P.MARK + s("S001C001P001R001A001") + P.LIST + P.DICT
    )
    c["odd-split-name-tuple"] = combined(
        annotation(ann), P.MARK + tup(s("a"), s("b")) + P.EMPTY_LIST + P.DICT
    )
    c["odd-split-name-bytes"] = combined(annotation(ann), P.MARK + b(b"x") + P.EMPTY_LIST + P.DICT)
    c["odd-dict-key-list"] = proto(2) + P.MARK + P.EMPTY_LIST + i(1) + P.DICT + P.STOP
    c["odd-dict-key-array"] = proto(2) + P.MARK + ann + i(1) + P.DICT + P.STOP
    c["odd-set-of-lists"] = proto(4) + P.EMPTY_SET + P.MARK + P.EMPTY_LIST + P.ADDITEMS + P.STOP
    c["odd-set-reduce-lists"] = (
        proto(2) + call(glob("builtins", "set"), P.MARK + P.EMPTY_LIST + P.LIST) + P.STOP
    )
    c["odd-frozenset-of-dicts"] = proto(4) + P.MARK + P.EMPTY_DICT + P.FROZENSET + P.STOP
    c["odd-recursive-list"] = proto(2) + P.EMPTY_LIST + put(0) + get(0) + P.APPEND + P.STOP
    c["odd-recursive-dict"] = (
        proto(2) + P.EMPTY_DICT + put(0) + s("a") + get(0) + P.SETITEM + (P.STOP)
    )
    c["odd-mutual-recursion"] = (
        proto(2)
        + P.EMPTY_LIST
        + put(0)
        + P.EMPTY_LIST
        + put(1)
        + get(0)
        + P.APPEND
        + P.POP
        + get(1)
        + get(0)
        + P.APPEND
        + P.STOP
    )
    c["odd-annotation-int"] = combined(i(3))
    c["odd-annotation-list"] = combined(P.MARK + s("frame_dir") + P.LIST)
    for name, value in [
        ("keypoint-list", P.MARK + i(1) + P.LIST),
        ("keypoint-str", s("keypoint")),
        ("keypoint-bytes", b(b"\x00" * 8)),
        ("keypoint-0d", array_((), dtype_("f8"), b"\x00" * 8)),
        ("keypoint-bool", array_((1, 2, 25, 3), dtype_("b1"), b"\x00" * 150)),
        ("keypoint-int", array_((1, 2, 25, 3), dtype_("i1"), b"\x01" * 150)),
        ("keypoint-complex", array_((1, 2, 25, 3), dtype_("c8"), b"\x00" * 1200)),
        ("keypoint-5d", array_((1, 1, 2, 25, 3), dtype_("f2"), b"\x00" * 300)),
        ("keypoint-empty", array_((0, 2, 25, 3), dtype_("f2"), b"")),
        ("keypoint-nan", array_((1, 2, 25, 3), dtype_("f2"), b"\x00\x7e" * 150)),
        (
            "keypoint-bigendian-c2",
            array_((1, 2, 25, 2), dtype_("f4", dtype_state(">")), b"\x00" * 400),
        ),
    ]:
        c[f"odd-{name}"] = with_keypoint(value)
    for name, value in [
        ("label-float", P.BINFLOAT + struct.pack(">d", 3.0)),
        ("label-nan", P.BINFLOAT + struct.pack(">d", float("nan"))),
        ("label-none", P.NONE),
        ("label-bool", P.NEWTRUE),
        ("label-negative", i(-4)),
        ("label-str", s("3")),
        ("label-list", P.MARK + i(1) + P.LIST),
        ("label-dict", P.EMPTY_DICT),
        ("label-array", good_keypoint()),
        (
            "label-numpy-scalar",
            call(glob("numpy.core.multiarray", "scalar"), dtype_("i8"), b(struct.pack("<q", -7))),
        ),
        ("label-huge-string", s("9" * 100_000)),
        ("label-bytes", b(b"\x07")),
    ]:
        c[f"odd-{name}"] = wrap(value)
    extras = {
        "img-shape-0d": {
            "img_shape": array_((), dtype_("i8"), b"\x00" * 8),
            "keypoint_score": P.NONE,
        },
        "img-shape-str": {"img_shape": s("1080x1920"), "keypoint_score": P.NONE},
        "img-shape-nested": {"img_shape": tup(tup(i(1)), P.EMPTY_LIST), "keypoint_score": P.NONE},
        "frame-inds-ragged": {
            "frame_inds": P.MARK + P.MARK + i(1) + P.LIST + i(2) + P.LIST,
            "raw_file": s("x"),
        },
        "frame-inds-dict": {"frame_inds": P.EMPTY_DICT, "raw_file": s("x")},
        "frame-inds-deep-list": {"frame_inds": P.MARK * 60 + P.LIST * 60, "raw_file": s("x")},
        "box-score-ragged": {
            "frame_inds": P.EMPTY_LIST,
            "raw_file": s("x"),
            "box_score": P.MARK + P.EMPTY_LIST + i(1) + P.LIST,
        },
        "valid-list": {
            "frame_inds": P.EMPTY_LIST,
            "raw_file": s("x"),
            "valid": P.MARK + i(1) + P.LIST,
        },
        "total-frames-huge": {"total_frames": i(2**63)},
        "total-frames-str": {"total_frames": s("2")},
        "frame-dir-int": {"frame_dir": i(1)},
        "frame-dir-bytes": {"frame_dir": b(b"S001")},
        "frame-dir-empty": {"frame_dir": s("")},
        "frame-dir-newline": {"frame_dir": s("a\nTraceback (most recent call last):\n0xdeadbeef")},
        "frame-dir-escape": {"frame_dir": s("\x1b[2J\x1b]0;pwned\x07")},
        "frame-dir-surrogate": {"frame_dir": s("\udcff\ud800")},
        "frame-dir-long": {"frame_dir": s("f" * 200_000)},
        "raw-file-path": {"frame_inds": P.EMPTY_LIST, "raw_file": s("../../../../etc/passwd")},
    }
    for name, fields in extras.items():
        c[f"odd-{name}"] = combined(annotation(ann, **fields))
    return c


def _paths() -> dict[str, bytes]:
    c: dict[str, bytes] = {}
    for name, split in [
        ("abs", "/../../../victim"),
        ("dotdot", "../victim"),
        ("dotdot-deep", "../../../../../../tmp/victim"),
        ("slash", "a/b"),
        ("backslash", "..\\victim"),
        ("dot", "."),
        ("dotdot-only", ".."),
        ("nul", "a\x00b"),
        ("newline", "a\nb"),
        ("long", "x" * 4000),
        ("empty", ""),
        ("percent", "%2e%2e%2fvictim"),
    ]:
        c[f"path-split-{name}"] = combined(
            annotation(good_keypoint()),
            P.MARK + s(split) + P.MARK + s("S001C001P001R001A001") + P.LIST + P.DICT,
        )
    return c


def _corrupt() -> dict[str, bytes]:
    valid = pickle.dumps(
        {
            "split": {"a": ["x"]},
            "annotations": [
                {
                    "frame_dir": "x",
                    "label": 0,
                    "total_frames": 1,
                    "keypoint": np.zeros((1, 1, 25, 3), np.float16),
                }
            ],
        },
        protocol=4,
    )
    c: dict[str, bytes] = {
        "corrupt-empty": b"",
        "corrupt-text": b"not a pickle at all\n",
        "corrupt-zeros": b"\x00" * 100,
        "corrupt-random": bytes((k * 7919 + 13) % 251 for k in range(4096)),
        "corrupt-protocol-9": b"\x80\x09N.",
        "corrupt-no-stop": proto(4) + P.NONE,
        "corrupt-empty-stack-stop": proto(4) + P.STOP,
        "corrupt-pop-underflow": proto(4) + P.POP + P.STOP,
        "corrupt-append-underflow": proto(4) + P.APPEND + P.STOP,
        "corrupt-setitem-on-list": proto(4) + P.EMPTY_LIST + i(1) + i(2) + P.SETITEM + P.STOP,
        "corrupt-append-on-dict": proto(4) + P.EMPTY_DICT + i(1) + P.APPEND + P.STOP,
        "corrupt-append-on-int": proto(4) + i(1) + i(1) + P.APPEND + P.STOP,
        "corrupt-setitems-odd": proto(4) + P.EMPTY_DICT + P.MARK + i(1) + P.SETITEMS + P.STOP,
        "corrupt-additems-on-frozenset": proto(4)
        + P.MARK
        + P.FROZENSET
        + P.MARK
        + i(1)
        + (P.ADDITEMS + P.STOP),
        "corrupt-get-missing": proto(4) + get(77) + P.STOP,
        "corrupt-get-negative-text": b"g-1\n.",
        "corrupt-tuple-no-mark": proto(4) + P.TUPLE + P.STOP,
        "corrupt-bad-utf8": proto(4) + P.SHORT_BINUNICODE + b"\x02\xff\xfe" + P.STOP,
        "corrupt-string-unquoted": b"Sabc\n.",
        "corrupt-string-nonascii": b"S'\\xff'\n.",
        "corrupt-unknown-opcode": proto(4) + b"\xff" + P.STOP,
        "corrupt-readonly-on-int": proto(5) + i(1) + P.READONLY_BUFFER + P.STOP,
        "corrupt-stack-global-ints": proto(4) + i(1) + i(2) + P.STACK_GLOBAL + P.STOP,
        "corrupt-valid-then-garbage": valid[:-1] + b"\xff\xff",
        "corrupt-truncated-half": valid[: len(valid) // 2],
        "corrupt-truncated-last": valid[:-1],
    }
    return c


# Crafted files that are valid annotation pickles all the same (odd names, extra fields a 3D
# annotation does not use, a split name with '%' escapes): readers may take them (exit 0), as
# long as nothing crashes, leaks or escapes.
VALID = {
    "odd-frame-inds-ragged", "odd-frame-inds-dict", "odd-frame-inds-deep-list",
    "odd-box-score-ragged", "odd-valid-list", "odd-raw-file-path", "odd-frame-dir-long",
} | {"path-split-percent"}  # fmt: skip


def crafted(marker: str) -> dict[str, bytes]:
    """{name: pickle bytes}: none may load as a valid annotation pickle."""
    out: dict[str, bytes] = {}
    for part in (_callables(marker), _dtypes(), _buffers(), _bombs(), _odd(), _paths(), _corrupt()):
        assert not set(part) & set(out)
        out.update(part)
    return out


def _ann(name: str, kp: np.ndarray, label: int = 0) -> dict:
    return {"frame_dir": name, "label": label, "keypoint": kp, "total_frames": kp.shape[1]}


def benign_data() -> dict:
    """A valid combined annotation pickle's data: float16, big-endian Fortran float32, float64."""
    kp = np.arange(2 * 3 * 25 * 3, dtype=np.float16).reshape(2, 3, 25, 3)
    anns = [
        _ann("S001C001P001R001A001", kp),
        _ann("S001C001P001R001A002", np.asfortranarray(kp.astype(">f4")), 1),
        _ann("S001C001P001R001A003", kp[:, ::2].astype(np.float64), 2),
    ]
    names = [a["frame_dir"] for a in anns]
    return {"split": {"xsub_train": names[:2], "xsub_val": names[2:]}, "annotations": anns}


def benign() -> dict[str, bytes]:
    """Valid annotation pickles in unusual but legitimate encodings (each must load)."""
    data = benign_data()
    anns = data["annotations"]
    out = {f"benign-protocol-{p}": pickle.dumps(data, protocol=p) for p in range(6)}
    out["benign-numpy1-names"] = pickle.dumps(data, protocol=2).replace(
        b"numpy._core.multiarray", b"numpy.core.multiarray"
    )
    shared = [dict(a) for a in anns]  # the split references the very same str objects (memo)
    names = [a["frame_dir"] for a in shared]
    out["benign-memo-shared-names"] = pickle.dumps(
        {"split": {"a": names, "b": names[::-1], "c": names}, "annotations": shared}, protocol=4
    )
    out["benign-plain-list"] = pickle.dumps(anns, protocol=4)
    return out
