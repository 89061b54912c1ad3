"""A restricted unpickler for annotation pickles and shards that come from elsewhere.

`pickle.load` runs whatever callables a pickle names, and numpy's own reconstruction functions
trust their arguments (a dtype state can claim "no objects" while holding an object field, and
`frombuffer` then reads the file's bytes as pointers). So this module does not hand the file to
the stdlib unpickler: it is a small pickle machine of its own (protocols 0-5) that builds only
plain data and checks everything before it exists:

* containers and scalars: dict, list, tuple, set, frozenset, str, bytes, bytearray, int (at most
  64 bits), float, complex, bool, None; dict keys and set members are scalars or strings;
* numpy arrays and scalars of plain numeric and bool dtypes only (`PLAIN_DTYPES`), and numpy
  str scalars (BABEL's label pickles hold them): no object, string array, structured,
  datetime or custom dtype, no dtype state other than the byte order; an
  array's bytes come from the file and their length is checked against shape x itemsize before
  the array is made (bool bytes must be 0 or 1);
* the only callables are stand-ins for what numpy and the stdlib pickler write
  (`ALLOWED_GLOBALS`): numpy's `_reconstruct` / `dtype` / `scalar` / `_frombuffer`, `set`,
  `frozenset`, `bytes`, `bytearray`, `complex`, and `_codecs.encode(str, 'latin1')`. Nothing
  from numpy or the stdlib is ever called with the file's arguments unchecked, and no module is
  imported for a global.
* bounds: nesting depth (`MAX_DEPTH`), and the size of what is built, counted with every memo
  reference expanded, at most `EXPANSION_SLACK + EXPANSION_FACTOR` x the bytes read so far. A
  container may not change once it sits inside another one, so those sizes are exact and no
  structure is recursive.

What it builds is what CPython's own unpickler (`Modules/_pickle.c`: `pickle.load`, hence
mmengine and MMAction2) builds from the same bytes, or it refuses the file: each opcode it
accepts has the C unpickler's semantics (text INT read as C's strtol does, 'I01' a bool;
MEMOIZE at the memo's count of filled slots; numpy's __setstate__ turning a big-endian array
native), and what CPython would raise on, warn about, or read differently depending on how the
file is read (an argument across a FRAME's end) is refused. tests/test_pickle_semantics.py
checks this against CPython on crafted and fuzzed pickles.

Every failure is a `PickleError` with a one-line message (source, byte offset, reason):
`UnsafePickleError` (refused: a global, opcode, dtype or size this loader will not build;
`skeleton` commands exit 2) or `CorruptPickleError` (not a readable pickle: truncated, garbled;
exit 1). Messages show values through a short, escaped repr, never an address.
"""

from __future__ import annotations

import codecs
import io
import math
import os
import pickle
import re
import reprlib
import stat
import struct
import sys
from collections.abc import Callable
from typing import IO, Any

import numpy as np

__all__ = [
    "ALLOWED_GLOBALS",
    "CorruptPickleError",
    "PLAIN_DTYPES",
    "PickleError",
    "UnsafePickleError",
    "load",
    "loads",
    "short_repr",
]

# Containers nest this deep at most: annotation pickles use ~5 levels (dict > list > dict >
# dict > value); a bound keeps repr/hash/compare/copy of loaded data off the C stack's limits.
MAX_DEPTH = 100
# What is built may weigh (about its bytes in memory, every memo reference expanded) at most
# EXPANSION_SLACK + EXPANSION_FACTOR x the bytes read so far. Real pickles stay below ~20x
# (arrays 1x; lists of memoised strings or small ints up to ~40x); memo fan-out bombs grow
# exponentially and are cut off at once, and the loader's work is bounded by the same count.
EXPANSION_FACTOR = 64
EXPANSION_SLACK = 8 << 20
# Python ints in annotation data are labels, counts and shapes; bigger ones only cost time
# (decimal conversion is quadratic) and make hash collisions cheap.
INT_LIMIT = 1 << 64
_TEXT_INT_DIGITS = 24
# INT / LONG / FLOAT texts in the spellings read (see _op_int, _op_long, _op_float)
_TEXT_INT = re.compile(rb"([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_TEXT_LONG = re.compile(rb"[+-]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0+|[1-9][0-9]*)")
_TEXT_FLOAT = re.compile(
    rb"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))"
)
_OCTAL_MAX = (1 << 31) - 1
_SIMPLE_ESCAPES = frozenset(b"\\'\"abfnrtv")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_TEXT_FLOAT_CHARS = 64
_GLOBAL_NAME_CHARS = 256
MAX_NDIM = 32  # numpy allows 64
# Array / scalar dtypes that can be built: numpy's sized type codes (as its pickles spell them)
# of bool, signed and unsigned ints, floats and complex. No long double: platform dependent.
PLAIN_DTYPES = frozenset(
    ["b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]
)
_HIGHEST_PROTOCOL = 5
_TEXT_DTYPE = re.compile(r"U[1-9][0-9]{0,5}")  # numpy str scalars, up to 999,999 characters
_MAX_ARRAY_SPAN = 1 << 62  # bytes an array's strides may span (numpy's intp)
_READ_CHUNK = 1 << 20

# Rough in-memory sizes (CPython, 64-bit) used for the size bound.
_COST_SCALAR = 32
_COST_CONTAINER = 64
_COST_SLOT = 8
_COST_MEMO_SLOT = 16  # CPython's memo array: 8-byte slots, grown to twice the index
_COST_ARRAY = 112


class PickleError(pickle.UnpicklingError):
    """A pickle this loader does not build; the message is one line."""

    def __init__(self, reason: str, source: str = "", offset: int | None = None) -> None:
        self.reason = reason
        self.source = source
        self.offset = offset
        where = f"{source}: " if source else ""
        super().__init__(where + self.detail)

    prefix = "unreadable pickle"

    @property
    def detail(self) -> str:
        """The message without the source: '<prefix>: <reason> (at byte N)'."""
        at = f" (at byte {self.offset})" if self.offset is not None else ""
        return f"{self.prefix}: {self.reason}{at}"


class UnsafePickleError(PickleError):
    """Refused: the pickle asks for a callable, opcode, dtype or size outside what we build.
    Nothing of it was executed."""

    prefix = "refused unsafe pickle"

    def __init__(
        self,
        reason: str,
        source: str = "",
        offset: int | None = None,
        global_name: str | None = None,
    ) -> None:
        self.global_name = global_name
        super().__init__(reason, source, offset)


class CorruptPickleError(PickleError):
    """Not a readable pickle (truncated, garbled, inconsistent)."""

    prefix = "corrupt pickle"


_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlevel = 3
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = _repr.maxfrozenset = 4


def short_repr(value: Any) -> str:
    """A short one-line repr of loaded data (never an address: only plain types get here)."""
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    try:
        text = _repr.repr(value)
    except Exception:  # noqa: BLE001 - a repr must never take an error message down
        text = f"<{type(value).__name__}>"
    return text.replace("\n", "\\n").replace("\r", "\\r")


# --- markers for globals and half-built numpy objects ----------------------------------------


class _Global:
    """A global the pickle named: only a handle for REDUCE (or _reconstruct's subtype)."""

    __slots__ = ("name", "reduce")

    def __init__(self, name: str, reduce: Callable[[_Machine, tuple], Any]) -> None:
        self.name = name
        self.reduce = reduce

    def __repr__(self) -> str:  # messages show it; never the default repr (an address)
        return f"<global {short_repr(self.name)}>"


class _Pending:
    """An object made by REDUCE that BUILD completes (numpy array or dtype)."""

    __slots__ = ("what", "done", "value")

    def __init__(self, what: str, value: Any = None) -> None:
        self.what = what
        self.done = False
        self.value = value

    def __repr__(self) -> str:
        return f"<numpy {self.what}{'' if self.done else ' without its state'}>"


class _Meta:
    """Size, depth and frozen flag of a container built here (`obj` keeps its id unique)."""

    __slots__ = ("obj", "weight", "depth", "frozen", "globals")

    def __init__(self, obj: Any, weight: int, depth: int = 1, globals_: bool = False) -> None:
        self.obj = obj
        self.weight = weight
        self.depth = depth
        self.frozen = False
        self.globals = globals_  # a tuple holding a _Global: REDUCE arguments only


_NUMERIC_KINDS = frozenset("biufc")
# scalar types whose weight is _COST_SCALAR and that may be dict keys / set members
_SCALARS = frozenset([int, float, bool, complex, type(None)])


def _int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _a(value: Any) -> str:
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


# --- the machine ------------------------------------------------------------------------------


class _Machine:
    """The pickle stack machine (the stdlib's model: a stack, a stack of marks, a memo)."""

    def __init__(self, file: IO[bytes], source: str) -> None:
        self.file = file
        self.source = source
        self.read_raw = file.read
        self.stack: list[Any] = []
        self.marks: list[list[Any]] = []
        # CPython's memo: an array of slots (_MISSING where nothing was stored) and the count of
        # filled slots, which is where MEMOIZE stores (not the array's length: a sparse PUT
        # leaves holes, and a MEMOIZE into a filled slot overwrites it without counting)
        self.memo: list[Any] = []
        self.memo_len = 0
        self.proto = 0  # the last PROTO opcode's: Python 2 names resolve only below 3
        self.frame_end = 0  # end offset of the FRAME reads are inside, 0 once it is left
        self.meta: dict[int, _Meta] = {}
        self.spent = 0
        self.pos = 0  # bytes read, refreshed from tell() when a bound is near
        self.end = self._end()

    def _end(self) -> int | None:
        """The file's end offset (seekable files; _run buffers the others)."""
        try:
            start = self.file.tell()
            end = self.file.seek(0, os.SEEK_END)
            self.file.seek(start)
            return end
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return None

    def left(self) -> int | None:
        return None if self.end is None else self.end - self.tell()

    def tell(self) -> int:
        try:
            self.pos = self.file.tell()
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            pass
        return self.pos

    # errors: one line, with the offset where reading stands

    def refuse(self, reason: str, global_name: str | None = None) -> UnsafePickleError:
        return UnsafePickleError(reason, self.source, self.tell(), global_name)

    def corrupt(self, reason: str) -> CorruptPickleError:
        return CorruptPickleError(reason, self.source, self.tell())

    # reading

    def read(self, n: int) -> bytes:
        if n > _READ_CHUNK:  # never ask for more than the file holds (no huge allocation)
            left = self.left()
            if left is not None and n > left:
                raise self.corrupt(f"truncated: an argument of {n} bytes, {left} left")
            if left is None:
                data = self._read_chunks(n)
                if self.frame_end:
                    self.in_frame(n)
                return data
        data = self.read_raw(n)
        if len(data) != n:
            raise self.corrupt(f"truncated: an argument of {n} bytes, {len(data)} left")
        if self.frame_end:
            self.in_frame(n)
        return data

    def in_frame(self, n: int) -> None:
        """Check the read of `n` bytes that just ended against the current FRAME.

        CPython's C unpickler reads a frame into a buffer and serves reads from it; a read that
        runs past the frame's end is served from the file *after* the frame, the frame's last
        bytes skipped (the pure-Python one raises). Such a pickle reads differently from its
        bytes in sequence, so it is refused; well-formed frames read the same either way.
        """
        end = self.tell()
        if end - n < self.frame_end < end:
            raise self.corrupt("an argument runs past the end of its FRAME")
        if end >= self.frame_end:
            self.frame_end = 0

    def _read_chunks(self, n: int) -> bytes:
        parts, left = [], n
        while left:
            part = self.read_raw(min(left, _READ_CHUNK))
            if not part:
                raise self.corrupt(f"truncated: an argument of {n} bytes, {n - left} left")
            parts.append(part)
            left -= len(part)
        self.pos += n
        return b"".join(parts)

    def readline(self, limit: int) -> bytes:
        line = self.file.readline(limit)
        if not line.endswith(b"\n"):
            if len(line) >= limit:
                raise self.refuse(f"a text argument longer than {limit - 1} bytes")
            raise self.corrupt("truncated: a text argument without its newline")
        if self.frame_end:
            self.in_frame(len(line))
        return line[:-1]

    # bounds

    def spend(self, cost: int) -> None:
        self.spent += cost
        if self.spent > EXPANSION_SLACK + EXPANSION_FACTOR * self.pos:
            if self.spent > EXPANSION_SLACK + EXPANSION_FACTOR * self.tell():
                raise self.refuse(
                    f"it builds more than {EXPANSION_FACTOR}x its size (memo or size bomb)"
                )

    def check_weight(self, meta: _Meta) -> None:
        if meta.weight > EXPANSION_SLACK + EXPANSION_FACTOR * self.tell():
            raise self.refuse(
                f"{_a(meta.obj)} expands to more than {EXPANSION_FACTOR}x the file's size "
                "(memo fan-out)"
            )

    def resolve(self, item: Any, what: str) -> Any:
        """A _Pending as its finished value; a _Global refused."""
        if type(item) is _Pending:
            if not item.done:
                raise self.refuse(f"{item.what} used as {what} before BUILD gave its state")
            return item.value
        raise self.refuse(f"global {item.name} used as {what}", item.name)

    def absorb(self, meta: _Meta, items: list[Any], what: str, slot: int, globals_ok: bool = False
               ) -> list[Any]:  # fmt: skip
        """Account `items` placed in `meta`'s container: resolved values, weight, depth, and
        every child container frozen. Returns the values to store."""
        metas = self.meta
        weight = 0
        depth = meta.depth - 1
        values = items
        for k, v in enumerate(items):
            t = type(v)
            if t is str or t is bytes:
                weight += 48 + len(v)
            elif t in _SCALARS:
                weight += _COST_SCALAR
            elif t is np.ndarray:
                weight += _COST_ARRAY + v.nbytes
            else:
                if t is _Pending or t is _Global:
                    if t is _Global and globals_ok:
                        meta.globals = True
                        continue
                    if values is items:
                        values = list(items)
                    v = values[k] = self.resolve(v, what)
                    if type(v) is np.ndarray:
                        weight += _COST_ARRAY + v.nbytes
                        continue
                child = metas.get(id(v))
                if child is None:  # numpy scalar, dtype, bytearray
                    weight += _COST_SCALAR + (len(v) if type(v) is bytearray else 0)
                    continue
                if child.obj is meta.obj:
                    raise self.refuse(f"{_a(v)} placed inside itself (recursive structure)")
                if child.globals:
                    raise self.refuse(f"a tuple holding a global used as {what}")
                child.frozen = True
                weight += child.weight
                if child.depth > depth:
                    depth = child.depth
        n = len(items)
        meta.weight += weight + slot * n
        if depth >= meta.depth:
            meta.depth = depth + 1
            if meta.depth > MAX_DEPTH:
                raise self.refuse(f"containers nested deeper than {MAX_DEPTH} levels")
        self.spend(slot * n)
        self.check_weight(meta)
        return values

    def keys(self, keys: list[Any], what: str) -> None:
        """Dict keys and set members: scalars and strings only (cheap, bounded hashing)."""
        cost = 0
        for k in keys:
            t = type(k)
            if t is str or t is bytes:
                cost += 48 + len(k)
            elif t in _SCALARS or (isinstance(k, np.generic) and k.dtype.kind in _NUMERIC_KINDS):
                cost += _COST_SCALAR
            else:
                if t is _Pending or t is _Global:
                    k = self.resolve(k, what)
                raise self.refuse(f"{what} of type {type(k).__name__} (only scalars and strings)")
        self.spend(cost)  # hashing

    def container(self, obj: Any, weight: int = _COST_CONTAINER, depth: int = 1) -> _Meta:
        meta = self.meta[id(obj)] = _Meta(obj, weight, depth)
        self.spend(weight + _COST_CONTAINER)  # the object and its _Meta
        return meta

    def mutable(self, target: Any, op: str, kind: type) -> _Meta:
        if type(target) is not kind:
            raise self.refuse(f"{op} on {_a(target)}")
        meta = self.meta[id(target)]
        if meta.frozen:
            raise self.refuse(f"{op} on {_a(target)} that already sits inside another object")
        return meta

    def make_tuple(self, items: list[Any]) -> tuple:
        meta = _Meta(None, _COST_CONTAINER)
        values = self.absorb(meta, items, "a tuple item", _COST_SLOT, globals_ok=True)
        meta.obj = tup = tuple(values)
        self.meta[id(tup)] = meta
        self.spend(2 * _COST_CONTAINER)
        return tup

    def pop_mark(self) -> list[Any]:
        if not self.marks:
            raise self.corrupt("no MARK on the stack")
        items = self.stack
        self.stack = self.marks.pop()
        return items

    def pop(self, n: int) -> list[Any]:
        stack = self.stack
        if len(stack) < n:
            raise self.corrupt("stack underflow")
        items = stack[-n:]
        del stack[-n:]
        return items

    def top(self) -> Any:
        if not self.stack:
            raise self.corrupt("stack underflow")
        return self.stack[-1]

    def memo_put(self, index: int) -> None:
        if index < 0:
            raise self.corrupt(f"negative memo index {index}")
        top = self.top()
        memo = self.memo
        if index < len(memo):
            if memo[index] is _MISSING:
                self.memo_len += 1
            memo[index] = top
            return
        # CPython grows its memo array to twice the index and fills every slot: an index far
        # beyond the stored ones costs it (and us) memory for each slot in between
        grow = index + 1 - len(memo)
        self.spend(grow * _COST_MEMO_SLOT)
        if grow > 1:
            memo.extend([_MISSING] * (grow - 1))
        memo.append(top)
        self.memo_len += 1

    def memo_get(self, index: int) -> None:
        value = self.memo[index] if 0 <= index < len(self.memo) else _MISSING
        if value is _MISSING:
            raise self.corrupt(f"memo index {index} was never stored")
        self.stack.append(value)
        self.spend(_COST_SLOT)

    def run(self) -> Any:
        dispatch = _DISPATCH
        read = self.read_raw
        while True:
            code = read(1)
            if not code:
                raise self.corrupt("truncated: it ends before STOP")
            if dispatch[code[0]](self):
                break
        if not self.stack:
            raise self.corrupt("STOP with an empty stack")
        result = self.stack.pop()
        if type(result) is _Pending or type(result) is _Global:
            result = self.resolve(result, "the result")
        meta = self.meta.get(id(result))
        if meta is not None and meta.globals:
            raise self.refuse("a tuple holding a global as the result")
        return result


_MISSING = object()


# --- opcode handlers: each returns True only for STOP ----------------------------------------


def _op_unknown(m: _Machine) -> None:
    m.file.seek(-1, os.SEEK_CUR)
    raise m.corrupt(f"unknown opcode {m.read_raw(1)!r}")


def _refused_op(name: str) -> Callable[[_Machine], None]:
    def handler(m: _Machine) -> None:
        raise m.refuse(f"opcode {name} ({_REFUSED[name]})")

    return handler


def _op_proto(m: _Machine) -> None:
    proto = m.read(1)[0]
    if proto > _HIGHEST_PROTOCOL:
        raise m.corrupt(f"unsupported pickle protocol {proto}")
    m.proto = proto


def _op_frame(m: _Machine) -> None:
    # a framing hint: opcodes read the same either way as long as no argument crosses a
    # frame's end (Machine.in_frame) and frames do not nest; it must fit in the file
    (n,) = _U64(m.read(8))
    if m.frame_end:
        raise m.corrupt("a FRAME inside an unfinished frame")
    left = m.left()
    if left is not None and n > left:
        raise m.corrupt(f"truncated: a frame of {n} bytes, {left} left")
    m.frame_end = m.tell() + n


def _op_stop(m: _Machine) -> bool:
    return True


def _op_mark(m: _Machine) -> None:
    m.marks.append(m.stack)
    m.stack = []
    m.spend(_COST_CONTAINER)


def _op_pop(m: _Machine) -> None:
    if m.stack:
        m.stack.pop()
    else:
        m.pop_mark()


def _op_pop_mark(m: _Machine) -> None:
    m.pop_mark()


def _op_dup(m: _Machine) -> None:
    m.stack.append(m.top())
    m.spend(_COST_SLOT)


def _op_none(m: _Machine) -> None:
    m.stack.append(None)


def _op_true(m: _Machine) -> None:
    m.stack.append(True)


def _op_false(m: _Machine) -> None:
    m.stack.append(False)


def _op_binint(m: _Machine) -> None:
    m.stack.append(_I32(m.read(4))[0])
    m.spend(_COST_SCALAR)


def _op_binint1(m: _Machine) -> None:
    data = m.read_raw(1)
    if not data:
        raise m.corrupt("truncated: it ends inside BININT1")
    m.stack.append(data[0])
    m.spend(_COST_SCALAR)


def _op_binint2(m: _Machine) -> None:
    m.stack.append(_U16(m.read(2))[0])
    m.spend(_COST_SCALAR)


def _push_int(m: _Machine, value: int) -> None:
    if not -INT_LIMIT <= value < INT_LIMIT:
        raise m.refuse("an integer beyond 64 bits")
    m.stack.append(value)
    m.spend(_COST_SCALAR)


def _long(m: _Machine, n: int) -> None:
    if n < 0:
        raise m.corrupt(f"negative integer length {n}")
    if n > 9:
        raise m.refuse(f"an integer of {n} bytes (more than 64 bits)")
    _push_int(m, int.from_bytes(m.read(n), "little", signed=True))


def _op_long1(m: _Machine) -> None:
    _long(m, m.read(1)[0])


def _op_long4(m: _Machine) -> None:
    _long(m, _I32(m.read(4))[0])


def _text_index(m: _Machine, line: bytes, what: str) -> int:
    """A GET / PUT index: CPython reads it with int(text, 10) (spaces, '_', a sign allowed)."""
    text = line.strip()
    if len(text) > _TEXT_INT_DIGITS:
        raise m.refuse(f"{what} of more than {_TEXT_INT_DIGITS} digits")
    try:
        return int(text)
    except ValueError:
        raise m.corrupt(f"{what} {short_repr(line)} is not a number") from None


def _op_int(m: _Machine) -> None:
    # CPython (Modules/_pickle.c load_int) reads the text with C's strtol(text, base 0):
    # '0x' hex, a leading '0' octal (I010 is 8), else decimal; a 2-character text whose value
    # is 0 or 1 is a bool (I00, I01, I+1, I-0; Python 2's protocol 0 wrote bools so). Only
    # these spellings are read; spaces, '_', NUL bytes, 0o/0b and the like are refused (strtol
    # and its fallback read some of them in ways of their own).
    line = m.readline(_TEXT_INT_DIGITS + 8)
    match = _TEXT_INT.fullmatch(line)
    if match is None:
        raise m.refuse(
            f"INT argument {short_repr(line)} (read are decimal, 0x hex and 0-prefixed octal)"
        )
    sign, digits = match.groups()
    if digits[:2] in (b"0x", b"0X"):
        value = int(digits[2:], 16)
    elif digits[:1] == b"0":
        value = int(digits, 8)
        if value > _OCTAL_MAX:  # beyond a 32-bit C long strtol fails and int(text, 0) raises
            raise m.refuse(f"INT argument {short_repr(line)}: an octal number beyond 32 bits")
    else:
        value = int(digits)
    if sign == b"-":
        value = -value
    if len(line) == 2 and value in (0, 1):
        m.stack.append(value == 1)
    else:
        _push_int(m, value)


def _op_long(m: _Machine) -> None:
    # CPython: one trailing 'L' dropped (Python 2 wrote it), the rest read by int(text, 0)
    line = m.readline(_TEXT_INT_DIGITS + 8)
    text = line[:-1] if line.endswith(b"L") else line
    if _TEXT_LONG.fullmatch(text) is None:
        raise m.refuse(f"LONG argument {short_repr(line)} (read are Python int literals)")
    _push_int(m, int(text, 0))


def _op_float(m: _Machine) -> None:
    # CPython reads the text with PyOS_string_to_double: no spaces or '_', and a value
    # beyond the float range is an OverflowError (float() would give inf)
    line = m.readline(_TEXT_FLOAT_CHARS)
    if _TEXT_FLOAT.fullmatch(line) is None:
        raise m.refuse(f"FLOAT argument {short_repr(line)} (read are decimal numbers, inf, nan)")
    value = float(line)
    if value in (math.inf, -math.inf) and b"n" not in line.lower():
        raise m.refuse(f"FLOAT argument {short_repr(line)} beyond the float range")
    m.stack.append(value)
    m.spend(_COST_SCALAR)


def _op_binfloat(m: _Machine) -> None:
    m.stack.append(_F64(m.read(8))[0])
    m.spend(_COST_SCALAR)


def _length(m: _Machine, unpack: Callable[[bytes], tuple[int]], size: int) -> int:
    (n,) = unpack(m.read(size))
    if n < 0:
        raise m.corrupt(f"negative length {n}")
    return n


def _push_text(m: _Machine, data: bytes, codec: str, errors: str = "strict") -> None:
    try:
        text = data.decode(codec, errors)
    except UnicodeDecodeError as exc:
        raise m.corrupt(f"a string that is not {codec}: {exc.reason} at {exc.start}") from None
    m.stack.append(text)
    m.spend(48 + len(text))


def _op_short_binunicode(m: _Machine) -> None:
    size = m.read_raw(1)
    data = m.read_raw(size[0]) if size else b""
    if not size or len(data) != size[0]:
        raise m.corrupt("truncated: it ends inside SHORT_BINUNICODE")
    if m.frame_end:
        m.in_frame(len(data))
    try:
        text = data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return _push_text(m, data, "utf-8", "surrogatepass")
    m.stack.append(text)
    m.spend(48 + len(text))
    return None


def _op_binunicode(m: _Machine) -> None:
    _push_text(m, m.read(_length(m, _U32, 4)), "utf-8", "surrogatepass")


def _op_binunicode8(m: _Machine) -> None:
    _push_text(m, m.read(_length(m, _U64, 8)), "utf-8", "surrogatepass")


def _op_unicode(m: _Machine) -> None:
    _push_text(m, m.readline(_line_limit(m)), "raw-unicode-escape")


def _line_limit(m: _Machine) -> int:
    left = m.left()
    return -1 if left is None else left + 1


def _op_binstring(m: _Machine) -> None:  # Python 2 str: decoded as ASCII, as pickle.load does
    _push_text(m, m.read(_length(m, _I32, 4)), "ascii")


def _op_short_binstring(m: _Machine) -> None:
    _push_text(m, m.read(m.read(1)[0]), "ascii")


def _op_string(m: _Machine) -> None:
    line = m.readline(_line_limit(m))
    if len(line) < 2 or line[:1] not in (b"'", b'"') or line[-1:] != line[:1]:
        raise m.corrupt("a STRING argument that is not quoted")
    text = line[1:-1]
    if not _plain_escapes(text):  # else a DeprecationWarning in CPython, an error with -W error
        raise m.corrupt("a STRING argument with a bad escape")
    _push_text(m, codecs.escape_decode(text)[0], "ascii")


def _plain_escapes(text: bytes) -> bool:
    """Whether every backslash escape in `text` is one Python reads without a warning:
    \\\\ \\' \\" \\a \\b \\f \\n \\r \\t \\v, \\xHH, octal up to \\377."""
    k = text.find(b"\\")
    while k >= 0:
        c = text[k + 1] if k + 1 < len(text) else -1
        if c in _SIMPLE_ESCAPES:
            k += 2
        elif c == 0x78:  # x
            if not (len(text) >= k + 4 and text[k + 2] in _HEX and text[k + 3] in _HEX):
                return False
            k += 4
        elif 0x30 <= c <= 0x37:  # octal: up to 3 digits, as the decoder takes them
            end = k + 2
            while end < min(k + 4, len(text)) and 0x30 <= text[end] <= 0x37:
                end += 1
            if int(text[k + 1 : end], 8) > 0o377:
                return False
            k = end
        else:
            return False
        k = text.find(b"\\", k)
    return True


def _push_bytes(m: _Machine, data: bytes | bytearray) -> None:
    m.stack.append(data)
    m.spend(48 + len(data))


def _op_binbytes(m: _Machine) -> None:
    _push_bytes(m, m.read(_length(m, _U32, 4)))


def _op_short_binbytes(m: _Machine) -> None:
    _push_bytes(m, m.read(m.read(1)[0]))


def _op_binbytes8(m: _Machine) -> None:
    _push_bytes(m, m.read(_length(m, _U64, 8)))


def _op_bytearray8(m: _Machine) -> None:
    _push_bytes(m, bytearray(m.read(_length(m, _U64, 8))))


def _op_readonly_buffer(m: _Machine) -> None:
    # CPython leaves read-only bytes as they are and turns anything else into a memoryview
    top = m.top()
    if type(top) is not bytes:
        raise m.refuse(f"READONLY_BUFFER on {_a(top)} (a memoryview is not built)")


def _op_empty_list(m: _Machine) -> None:
    obj: list = []
    m.container(obj)
    m.stack.append(obj)


def _op_empty_dict(m: _Machine) -> None:
    obj: dict = {}
    m.container(obj)
    m.stack.append(obj)


def _op_empty_set(m: _Machine) -> None:
    obj: set = set()
    m.container(obj)
    m.stack.append(obj)


def _op_empty_tuple(m: _Machine) -> None:
    m.stack.append(m.make_tuple([]))


def _op_tuple(m: _Machine) -> None:
    items = m.pop_mark()  # (before naming m.stack: it switches the stack)
    m.stack.append(m.make_tuple(items))


def _op_tuple1(m: _Machine) -> None:
    m.stack.append(m.make_tuple(m.pop(1)))


def _op_tuple2(m: _Machine) -> None:
    m.stack.append(m.make_tuple(m.pop(2)))


def _op_tuple3(m: _Machine) -> None:
    m.stack.append(m.make_tuple(m.pop(3)))


def _extend(m: _Machine, target: Any, items: list[Any]) -> None:
    meta = m.mutable(target, "APPEND", list)
    target.extend(m.absorb(meta, items, "a list item", _COST_SLOT))


def _op_list(m: _Machine) -> None:
    items = m.pop_mark()
    target: list = []
    m.container(target)
    _extend(m, target, items)
    m.stack.append(target)


def _op_append(m: _Machine) -> None:
    items = m.pop(1)
    _extend(m, m.top(), items)


def _op_appends(m: _Machine) -> None:
    items = m.pop_mark()
    _extend(m, m.top(), items)


def _set_items(m: _Machine, target: Any, items: list[Any]) -> None:
    if len(items) % 2:
        raise m.corrupt("SETITEMS with an odd number of items")
    meta = m.mutable(target, "SETITEM", dict)
    keys = items[::2]
    m.keys(keys, "a dict key")
    values = m.absorb(meta, items[1::2], "a dict value", 2 * _COST_SLOT)
    for key, value in zip(keys, values, strict=True):
        old = target.get(key, _MISSING)
        if old is not _MISSING:  # a repeated key replaces its value, as in pickle
            child = m.meta.get(id(old))
            meta.weight -= child.weight if child is not None else _COST_SCALAR
        target[key] = value


def _op_dict(m: _Machine) -> None:
    items = m.pop_mark()
    target: dict = {}
    m.container(target)
    _set_items(m, target, items)
    m.stack.append(target)


def _op_setitem(m: _Machine) -> None:
    items = m.pop(2)
    _set_items(m, m.top(), items)


def _op_setitems(m: _Machine) -> None:
    items = m.pop_mark()
    _set_items(m, m.top(), items)


def _add_items(m: _Machine, meta: _Meta, target: set, items: list[Any]) -> None:
    m.keys(items, "a set member")
    target.update(m.absorb(meta, items, "a set member", _COST_SLOT))


def _op_additems(m: _Machine) -> None:
    items = m.pop_mark()
    target = m.top()
    _add_items(m, m.mutable(target, "ADDITEMS", set), target, items)


def _frozenset(m: _Machine, items: list[Any]) -> frozenset:
    building: set = set()
    meta = _Meta(building, _COST_CONTAINER)
    _add_items(m, meta, building, items)
    obj = frozenset(building)
    m.container(obj, meta.weight, meta.depth)
    return obj


def _op_frozenset(m: _Machine) -> None:
    items = m.pop_mark()
    m.stack.append(_frozenset(m, items))


def _op_get(m: _Machine) -> None:
    m.memo_get(_text_index(m, m.readline(_TEXT_INT_DIGITS + 8), "a GET index"))


def _op_binget(m: _Machine) -> None:
    index = m.read(1)[0]
    memo = m.memo
    if index < len(memo) and memo[index] is not _MISSING:
        m.stack.append(memo[index])
        m.spend(_COST_SLOT)
    else:
        m.memo_get(index)


def _op_long_binget(m: _Machine) -> None:
    m.memo_get(_U32(m.read(4))[0])


def _op_put(m: _Machine) -> None:
    m.memo_put(_text_index(m, m.readline(_TEXT_INT_DIGITS + 8), "a PUT index"))


def _op_binput(m: _Machine) -> None:
    m.memo_put(m.read(1)[0])


def _op_long_binput(m: _Machine) -> None:
    m.memo_put(_U32(m.read(4))[0])


def _op_memoize(m: _Machine) -> None:
    m.memo_put(m.memo_len)  # CPython: at the count of filled slots


def _global(m: _Machine, module: str, name: str) -> None:
    full = f"{module}.{name}"
    shown = full if len(full) <= 120 and full.isprintable() else short_repr(full)
    reduce = ALLOWED_GLOBALS.get((module, name))
    if module == "__builtin__" and m.proto >= 3:  # CPython maps Python 2 names below 3 only
        raise m.refuse(f"it references {shown!r} in a protocol {m.proto} pickle", full)
    if reduce is None:
        raise m.refuse(
            f"it references {shown!r}, which is not one of the numpy array / dtype / scalar "
            "reconstructors or builtin containers this loader rebuilds",
            full,
        )
    m.stack.append(_Global(full, reduce))
    m.spend(_COST_SCALAR)


def _op_global(m: _Machine) -> None:
    module = m.readline(_GLOBAL_NAME_CHARS + 1)
    name = m.readline(_GLOBAL_NAME_CHARS + 1)
    try:
        _global(m, module.decode("utf-8"), name.decode("utf-8"))
    except UnicodeDecodeError:
        raise m.refuse(f"global name {short_repr(module + b'.' + name)} is not UTF-8") from None


def _op_stack_global(m: _Machine) -> None:
    module, name = m.pop(2)
    if type(module) is not str or type(name) is not str:
        raise m.refuse(f"STACK_GLOBAL with {_a(module)} and {_a(name)}")
    _global(m, module, name)


def _op_reduce(m: _Machine) -> None:
    func, args = m.pop(2)
    if type(func) is not _Global:
        raise m.refuse(f"REDUCE calls {_a(func)}, not an allowed global")
    if type(args) is not tuple:
        raise m.refuse(f"REDUCE arguments are {_a(args)}, not a tuple")
    m.stack.append(func.reduce(m, args))


def _op_build(m: _Machine) -> None:
    (state,) = m.pop(1)
    target = m.top()
    if type(target) is not _Pending or target.done:
        if type(target) is _Pending:
            target = target.value
        raise m.refuse(f"BUILD on {_a(target)}")
    if type(state) is _Pending or type(state) is _Global:
        state = m.resolve(state, "BUILD state")
    value = _BUILDERS[target.what](m, target, state)
    target.value, target.done = value, True
    m.stack[-1] = value


_I32 = struct.Struct("<i").unpack
_U16 = struct.Struct("<H").unpack
_U32 = struct.Struct("<I").unpack
_U64 = struct.Struct("<Q").unpack
_F64 = struct.Struct(">d").unpack

# Opcodes that need a callable or object model this loader does not offer.
_REFUSED = {
    "INST": "class instantiation",
    "OBJ": "class instantiation",
    "NEWOBJ": "class instantiation",
    "NEWOBJ_EX": "class instantiation",
    "EXT1": "extension registry",
    "EXT2": "extension registry",
    "EXT4": "extension registry",
    "PERSID": "persistent id",
    "BINPERSID": "persistent id",
    "NEXT_BUFFER": "out-of-band buffer",
}


def _opcode_table() -> dict[str, int]:
    import pickletools

    return {op.name: op.code.encode("latin-1")[0] for op in pickletools.opcodes}


_HANDLERS: dict[str, Callable[[_Machine], Any]] = {
    "PROTO": _op_proto,
    "FRAME": _op_frame,
    "STOP": _op_stop,
    "MARK": _op_mark,
    "POP": _op_pop,
    "POP_MARK": _op_pop_mark,
    "DUP": _op_dup,
    "NONE": _op_none,
    "NEWTRUE": _op_true,
    "NEWFALSE": _op_false,
    "INT": _op_int,
    "BININT": _op_binint,
    "BININT1": _op_binint1,
    "BININT2": _op_binint2,
    "LONG": _op_long,
    "LONG1": _op_long1,
    "LONG4": _op_long4,
    "FLOAT": _op_float,
    "BINFLOAT": _op_binfloat,
    "STRING": _op_string,
    "BINSTRING": _op_binstring,
    "SHORT_BINSTRING": _op_short_binstring,
    "UNICODE": _op_unicode,
    "BINUNICODE": _op_binunicode,
    "SHORT_BINUNICODE": _op_short_binunicode,
    "BINUNICODE8": _op_binunicode8,
    "BINBYTES": _op_binbytes,
    "SHORT_BINBYTES": _op_short_binbytes,
    "BINBYTES8": _op_binbytes8,
    "BYTEARRAY8": _op_bytearray8,
    "READONLY_BUFFER": _op_readonly_buffer,
    "EMPTY_LIST": _op_empty_list,
    "EMPTY_DICT": _op_empty_dict,
    "EMPTY_SET": _op_empty_set,
    "EMPTY_TUPLE": _op_empty_tuple,
    "TUPLE": _op_tuple,
    "TUPLE1": _op_tuple1,
    "TUPLE2": _op_tuple2,
    "TUPLE3": _op_tuple3,
    "LIST": _op_list,
    "APPEND": _op_append,
    "APPENDS": _op_appends,
    "DICT": _op_dict,
    "SETITEM": _op_setitem,
    "SETITEMS": _op_setitems,
    "ADDITEMS": _op_additems,
    "FROZENSET": _op_frozenset,
    "GET": _op_get,
    "BINGET": _op_binget,
    "LONG_BINGET": _op_long_binget,
    "PUT": _op_put,
    "BINPUT": _op_binput,
    "LONG_BINPUT": _op_long_binput,
    "MEMOIZE": _op_memoize,
    "GLOBAL": _op_global,
    "STACK_GLOBAL": _op_stack_global,
    "REDUCE": _op_reduce,
    "BUILD": _op_build,
}
_CODES = _opcode_table()
_DISPATCH: list[Callable[[_Machine], Any]] = [_op_unknown] * 256
for _op_name, _code in _CODES.items():
    _DISPATCH[_code] = _HANDLERS.get(_op_name) or _refused_op(_op_name)
assert set(_HANDLERS) | set(_REFUSED) == set(_CODES), "every pickle opcode is handled or refused"


# --- numpy objects ------------------------------------------------------------------------------


def _text_chars(typestr: Any) -> int | None:
    """Characters of a fixed-width text dtype code 'U<n>' (numpy str scalars only), else None."""
    if type(typestr) is str and _TEXT_DTYPE.fullmatch(typestr):
        return int(typestr[1:])
    return None


def _plain_dtype(m: _Machine, typestr: Any, order: str = "=") -> np.dtype:
    if _text_chars(typestr) is None and (
        not isinstance(typestr, str) or typestr not in PLAIN_DTYPES
    ):
        raise m.refuse(
            f"dtype {short_repr(typestr)} (only plain numeric and bool dtypes: "
            f"{', '.join(sorted(PLAIN_DTYPES))})"
        )
    dt = np.dtype(typestr)
    if dt.itemsize > 1 and order in "<>":
        dt = dt.newbyteorder(order)
    # numpy's __setstate__ spells the native order '=' (dtype.byteorder, repr)
    return dt.newbyteorder("=") if dt.isnative else dt


def _dtype_of(m: _Machine, value: Any, what: str) -> np.dtype:
    # Only dtypes this loader made reach here (a dtype is never data from the file itself).
    if not isinstance(value, np.dtype) or value.kind not in "biufc" or value.fields is not None:
        raise m.refuse(f"{what} is {_a(value)}, not a plain numeric dtype")
    return value


def _reduce_dtype(m: _Machine, args: tuple) -> _Pending:
    # numpy writes dtype(code, align=False, copy=True) (Python 2 era: 0, 1). Without copy
    # numpy hands out its shared dtype, whose __setstate__ then ignores the state.
    if (
        len(args) != 3
        or type(args[1]) not in (bool, int)
        or type(args[2]) not in (bool, int)
        or args[1] != 0
        or args[2] != 1
    ):
        raise m.refuse(f"numpy.dtype arguments {short_repr(args)} (only (code, False, True))")
    _plain_dtype(m, args[0])
    return _Pending("dtype", args[0])  # the type code until BUILD


def _is_int_value(value: Any, want: int) -> bool:
    return type(value) is int and value == want


def _build_dtype(m: _Machine, target: _Pending, state: Any) -> np.dtype:
    # numpy writes (3, byteorder, subarray, names, fields, elsize, alignment, flags); for the
    # plain dtypes everything but the byte order is None / -1 / 0; 'U<n>' (str scalars) has
    # elsize 4n, alignment 4 and flags 8.
    typestr = target.value
    chars = _text_chars(typestr)
    tail = (-1, -1, 0) if chars is None else (4 * chars, 4, 8)
    if (
        type(state) is not tuple
        or len(state) != 8
        or not _is_int_value(state[0], 3)
        or type(state[1]) is not str
        or state[1] not in ("<", ">", "=", "|")
        or not all(x is None for x in state[2:5])
        or not all(_is_int_value(x, want) for x, want in zip(state[5:], tail, strict=True))
    ):
        raise m.refuse(f"dtype state {short_repr(state)} (only a byte order is allowed)")
    dt = _plain_dtype(m, typestr, state[1])
    if (state[1] == "|") != (dt.itemsize == 1):  # numpy keeps e.g. '>' on an int8 as it is
        raise m.refuse(f"dtype {typestr} with byte order {state[1]!r}")
    return dt


def _reduce_reconstruct(m: _Machine, args: tuple) -> _Pending:
    # ndarray.__reduce__: _reconstruct(ndarray, (0,), b'b'), then BUILD with the state
    if (
        len(args) != 3
        or type(args[0]) is not _Global
        or args[0].reduce is not _reduce_ndarray
        or type(args[1]) is not tuple
        or not all(_int(n) and 0 <= n <= 1 for n in args[1])
        or type(args[2]) not in (bytes, str)
        or args[2] not in (b"b", "b")  # the placeholder dtype numpy writes (uint8)
    ):
        raise m.refuse(f"numpy _reconstruct arguments {short_repr(args)}")
    return _Pending("array")


def _reduce_ndarray(m: _Machine, args: tuple) -> Any:
    raise m.refuse("numpy.ndarray called directly (uninitialised memory)", "numpy.ndarray")


def _shape(m: _Machine, shape: Any) -> tuple[int, ...]:
    if (
        type(shape) is not tuple
        or len(shape) > MAX_NDIM
        or not all(_int(n) and n >= 0 for n in shape)
    ):
        raise m.refuse(f"array shape {short_repr(shape)}")
    return tuple(int(n) for n in shape)


def _array(m: _Machine, raw: Any, dt: np.dtype, shape: tuple[int, ...], order: str,
           text_ok: bool = False, kinds: tuple[type, ...] = (bytes,)) -> np.ndarray:  # fmt: skip
    if text_ok and type(raw) is str:  # Python 2 str data, as numpy's __setstate__ takes it
        try:
            raw = raw.encode("latin-1")
        except UnicodeEncodeError:
            raise m.refuse("array data is text beyond latin-1") from None
    if type(raw) not in kinds:  # numpy's __setstate__ and scalar() take bytes only
        raise m.refuse(f"array data is {_a(raw)}, not {' or '.join(k.__name__ for k in kinds)}")
    count = span = 1
    for n in shape:
        count *= n
        span *= max(n, 1)
    if span * dt.itemsize >= _MAX_ARRAY_SPAN:
        raise m.refuse(f"array shape {shape} beyond 64-bit strides")
    need = count * dt.itemsize
    if len(raw) != need:
        raise m.refuse(
            f"array data is {len(raw)} bytes but shape {shape} x {dt.itemsize}-byte {dt} "
            f"needs {need}"
        )
    m.spend(_COST_ARRAY + need)
    flat = np.frombuffer(raw, dtype=dt, count=count)
    if dt.kind == "b" and count and flat.view(np.uint8).max() > 1:
        raise m.refuse("bool array holds bytes other than 0 and 1")
    return flat.reshape(shape, order=order).copy(order="K")  # writeable, owns its memory


def _build_array(m: _Machine, target: _Pending, state: Any) -> np.ndarray:
    # ndarray.__setstate__: (version, shape, dtype, is_fortran, rawdata); old: without version
    if type(state) is not tuple or len(state) not in (4, 5):
        raise m.refuse(f"array state {short_repr(state)}")
    if len(state) == 5:
        if not _is_int_value(state[0], 1):
            raise m.refuse(f"array state version {short_repr(state[0])}")
        state = state[1:]
    shape, dtype, fortran, raw = state
    if type(fortran) not in (bool, int) or fortran not in (0, 1):
        raise m.refuse(f"array order flag {short_repr(fortran)}")
    dt = _dtype_of(m, dtype, "the array dtype")
    arr = _array(m, raw, dt, _shape(m, shape), "F" if fortran else "C", text_ok=True)
    if not dt.isnative:  # numpy's __setstate__ swaps the bytes and gives the native dtype
        arr = arr.astype(dt.newbyteorder("="))
    return arr


def _reduce_frombuffer(m: _Machine, args: tuple) -> np.ndarray:
    # protocol 5: numpy._core.numeric._frombuffer(buffer, dtype, shape, order)
    if len(args) != 4 or type(args[3]) is not str or args[3] not in ("C", "F"):
        raise m.refuse(f"numpy _frombuffer arguments {short_repr(args)}")
    dt = _dtype_of(m, args[1], "the array dtype")
    return _array(m, args[0], dt, _shape(m, args[2]), args[3], kinds=(bytes, bytearray))


def _reduce_scalar(m: _Machine, args: tuple) -> np.generic:
    # numpy scalar: numpy._core.multiarray.scalar(dtype, bytes)
    if len(args) != 2:
        raise m.refuse(f"numpy scalar arguments {short_repr(args)}")
    dt = args[0]
    if isinstance(dt, np.dtype) and dt.kind == "U" and dt.fields is None:
        return _text_scalar(m, dt, args[1])
    dt = _dtype_of(m, dt, "the scalar dtype")
    return _array(m, args[1], dt, (), "C")[()]


def _text_scalar(m: _Machine, dt: np.dtype, raw: Any) -> np.str_:
    # a numpy str scalar: UCS-4 code units, NUL padded (BABEL's label pickles hold these)
    if type(raw) is not bytes or len(raw) != dt.itemsize:
        raise m.refuse(f"str scalar data is {_a(raw)} of the wrong size for {dt}")
    try:
        big = dt.byteorder == ">" or (dt.byteorder == "=" and sys.byteorder == "big")
        text = raw.decode("utf-32-be" if big else "utf-32-le")
    except UnicodeDecodeError:
        raise m.refuse("str scalar data holds invalid code points") from None
    m.spend(48 + len(raw))
    return np.str_(text.rstrip("\x00"))


# --- builtins -------------------------------------------------------------------------------------


def _reduce_set(kind: type) -> Callable[[_Machine, tuple], Any]:
    def reduce(m: _Machine, args: tuple) -> Any:
        if len(args) > 1 or (args and type(args[0]) not in (list, tuple)):
            raise m.refuse(f"{kind.__name__} arguments {short_repr(args)}")
        items = list(args[0]) if args else []
        if kind is frozenset:
            return _frozenset(m, items)
        obj: set = set()
        _add_items(m, m.container(obj), obj, items)
        return obj

    return reduce


def _reduce_bytes(m: _Machine, args: tuple) -> bytes:
    if args == ():
        return b""
    if len(args) == 1 and type(args[0]) in (bytes, bytearray):
        m.spend(48 + len(args[0]))
        return bytes(args[0])
    raise m.refuse(f"bytes arguments {short_repr(args)}")


def _latin1(m: _Machine, args: tuple, what: str) -> bytes:
    if (
        len(args) == 2
        and type(args[0]) is str
        and type(args[1]) is str
        and args[1].lower().replace("_", "-") in ("latin1", "latin-1")
    ):
        try:
            data = args[0].encode("latin-1")
        except UnicodeEncodeError:
            raise m.refuse(f"{what}: text beyond latin-1") from None
        m.spend(48 + len(data))
        return data
    raise m.refuse(f"{what} arguments {short_repr(args)} (only (str, 'latin1'))")


def _reduce_bytearray(m: _Machine, args: tuple) -> bytearray:
    if len(args) == 2:
        return bytearray(_latin1(m, args, "bytearray"))
    return bytearray(_reduce_bytes(m, args))


def _reduce_encode(m: _Machine, args: tuple) -> bytes:
    return _latin1(m, args, "_codecs.encode")


def _reduce_complex(m: _Machine, args: tuple) -> complex:
    if not 1 <= len(args) <= 2 or not all(type(a) in (int, float) for a in args):
        raise m.refuse(f"complex arguments {short_repr(args)}")
    m.spend(_COST_SCALAR)
    return complex(*args)


_BUILDERS: dict[str, Callable[[_Machine, _Pending, Any], Any]] = {
    "array": _build_array,
    "dtype": _build_dtype,
}


def _allowed_globals() -> dict[tuple[str, str], Callable[[_Machine, tuple], Any]]:
    table: dict[tuple[str, str], Callable[[_Machine, tuple], Any]] = {}
    for core in ("numpy.core", "numpy._core"):  # numpy 1.x spelling, numpy 2 spelling
        table[(f"{core}.multiarray", "_reconstruct")] = _reduce_reconstruct
        table[(f"{core}.multiarray", "scalar")] = _reduce_scalar
        table[(f"{core}.numeric", "_frombuffer")] = _reduce_frombuffer
    table[("numpy", "ndarray")] = _reduce_ndarray
    table[("numpy", "dtype")] = _reduce_dtype
    for builtins in ("builtins", "__builtin__"):  # Python 3, Python 2 pickles
        table[(builtins, "set")] = _reduce_set(set)
        table[(builtins, "frozenset")] = _reduce_set(frozenset)
        table[(builtins, "bytes")] = _reduce_bytes
        table[(builtins, "bytearray")] = _reduce_bytearray
        table[(builtins, "complex")] = _reduce_complex
    table[("_codecs", "encode")] = _reduce_encode
    return table


# (module, name) -> the checked stand-in REDUCE calls instead of the real object.
ALLOWED_GLOBALS: dict[tuple[str, str], Callable[[_Machine, tuple], Any]] = _allowed_globals()


# --- entry points ---------------------------------------------------------------------------------


def _run(fh: IO[bytes], source: str) -> Any:
    try:
        seekable = fh.seekable()
    except (AttributeError, ValueError):
        seekable = False
    if not seekable:  # positions and sizes come from tell() / seek(): buffer a pipe first
        fh = io.BytesIO(fh.read())
    machine = _Machine(fh, source)
    try:
        return machine.run()
    except PickleError:
        raise
    except MemoryError:
        raise UnsafePickleError(
            "it needs more memory than this process may use", source, machine.tell()
        ) from None
    except RecursionError:  # pragma: no cover - the depth bound comes first
        raise UnsafePickleError("nested too deeply", source, machine.tell()) from None
    except Exception as exc:  # noqa: BLE001 - a last guard: one line, never a traceback
        raise CorruptPickleError(
            f"cannot be read ({type(exc).__name__})", source, machine.tell()
        ) from None


def load(path_or_file: str | os.PathLike[str] | IO[bytes]) -> Any:
    """Unpickle a file (path or binary file object) into plain data and numeric arrays.

    Raises `UnsafePickleError` (refused) or `CorruptPickleError` (unreadable), both
    `pickle.UnpicklingError`s with a one-line message, and `OSError` when the file cannot be
    opened.
    """
    if isinstance(path_or_file, str | os.PathLike):
        source = os.fspath(path_or_file)
        # O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise CorruptPickleError("not a regular file", source)
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
            fh = open(fd, "rb", buffering=_READ_CHUNK, closefd=True)
        except BaseException:
            os.close(fd)
            raise
        with fh:
            return _run(fh, source)
    return _run(path_or_file, str(getattr(path_or_file, "name", "")))


def loads(data: bytes, source: str = "") -> Any:
    """`load` for an in-memory pickle."""
    return _run(io.BytesIO(data), source)
