"""Writing and reading annotation pickles (the MMAction2 / PYSKL format).

`AnnotationWriter` streams `{'annotations': [...], 'split': ...}` to disk one annotation at a time,
so packaging never holds the dataset twice. Arrays are written with the global names numpy 1.x
uses (`numpy.core.multiarray._reconstruct`): numpy 2 loads those too, while pickles that name
`numpy._core` (numpy 2's default) cannot be loaded by the numpy 1.x stacks most MMAction2 / PYSKL
users run. No memo is used, so every annotation is self-contained and the bytes depend only on
the data.

The opcodes are those of the standard library's pure-Python pickler in that mode (`_Pickler`
below, which stays the reference); `_opcodes` writes the same bytes ~30x faster for the data
annotations hold (str, int, float, bool, None, bytes, tuples, lists, dicts, ndarrays) and hands
anything else to `_Pickler`.
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Mapping
from struct import pack
from typing import IO, Any

import numpy as np

from skeleton.core.files import atomic_write

PROTOCOL = 4
_APPEND_BATCH = 1000  # items per APPENDS / SETITEMS opcode, as the stdlib pickler does

# numpy objects -> the (module, name) numpy 1.x pickles them under
_NUMPY1_GLOBALS = {
    id(np.ndarray.__reduce_ex__(np.zeros(1), PROTOCOL)[0]): (
        "numpy.core.multiarray",
        "_reconstruct",
    ),
}


class _Pickler(pickle._Pickler):  # the pure-Python pickler lets us emit opcodes between objects
    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file, protocol=PROTOCOL)
        self.fast = True  # no memo: each object stands alone

    def save_global(self, obj: Any, name: str | None = None) -> None:
        alias = _NUMPY1_GLOBALS.get(id(obj))
        if alias is None:
            return super().save_global(obj, name)
        self.save(alias[0])
        self.save(alias[1])
        self.write(pickle.STACK_GLOBAL)


_TUPLE_N = {1: pickle.TUPLE1, 2: pickle.TUPLE2, 3: pickle.TUPLE3}
_CACHE_MAX = 256
_cache: dict[int, tuple[Any, bytes]] = {}  # id -> (object, kept alive so the id stays its, bytes)
_heads: dict[tuple[Any, Any], bytes] = {}  # an array's (_reconstruct, args) -> their opcodes


def _reference(obj: Any) -> bytes:
    """`obj` as `_Pickler` writes it (context-free: no memo, no frames)."""
    buf = io.BytesIO()
    _Pickler(buf).save(obj)
    return buf.getvalue()


def _cached(obj: Any) -> bytes:
    """_reference(obj) for the few objects every array names: its class, `_reconstruct`, dtypes."""
    hit = _cache.get(id(obj))
    if hit is None:
        hit = (obj, _reference(obj))
        if len(_cache) < _CACHE_MAX:
            _cache[id(obj)] = hit
    return hit[1]


def _opcodes(obj: Any, out: list[bytes]) -> None:
    """Append `obj`'s pickle to `out`: the bytes `_Pickler` (protocol 4, fast mode) writes,
    rule for rule (pickle.py save_str, save_long, save_tuple, _batch_appends, ...)."""
    t = type(obj)
    emit = _EMIT.get(t)
    if emit is not None:
        emit(obj, out)
    elif t is np.ndarray and t not in copyreg.dispatch_table:
        rv = obj.__reduce_ex__(PROTOCOL)  # (_reconstruct, (ndarray, (0,), b'b'), state)
        if len(rv) != 3 or rv[2] is None or getattr(rv[0], "__name__", "").startswith("__newobj"):
            out.append(_reference(obj))
            return
        head = _heads.get(rv[:2])  # the same for every array of a class
        if head is None:
            part: list[bytes] = [_cached(rv[0])]
            _opcodes(rv[1], part)
            head = b"".join(part) + pickle.REDUCE
            if len(_heads) < _CACHE_MAX:
                _heads[rv[:2]] = head
        out.append(head)
        _opcodes(rv[2], out)
        out.append(pickle.BUILD)
    elif isinstance(obj, type) or t is type(len) or (isinstance(obj, np.dtype) and obj.isbuiltin):
        out.append(_cached(obj))  # classes, functions, builtin dtypes: never change
    else:
        out.append(_reference(obj))


def _str(obj: str, out: list[bytes]) -> None:
    b = obj.encode("utf-8", "surrogatepass")
    n = len(b)
    if n <= 0xFF:
        out.append(pickle.SHORT_BINUNICODE + bytes((n,)) + b)
    elif n > 0xFFFFFFFF:
        out.append(pickle.BINUNICODE8 + pack("<Q", n) + b)
    else:
        out.append(pickle.BINUNICODE + pack("<I", n) + b)


def _bytes(obj: bytes, out: list[bytes]) -> None:
    n = len(obj)
    if n <= 0xFF:
        out.append(pickle.SHORT_BINBYTES + bytes((n,)))
    elif n > 0xFFFFFFFF:
        out.append(pickle.BINBYTES8 + pack("<Q", n))
    else:
        out.append(pickle.BINBYTES + pack("<I", n))
    out.append(obj)


def _int(obj: int, out: list[bytes]) -> None:
    if 0 <= obj <= 0xFF:
        out.append(pickle.BININT1 + bytes((obj,)))
    elif 0 <= obj <= 0xFFFF:
        out.append(pickle.BININT2 + pack("<H", obj))
    elif -0x80000000 <= obj <= 0x7FFFFFFF:
        out.append(pickle.BININT + pack("<i", obj))
    else:
        out.append(_reference(obj))  # LONG1 / LONG4


def _tuple(obj: tuple, out: list[bytes]) -> None:
    if not obj:
        out.append(pickle.EMPTY_TUPLE)
        return
    n = len(obj)
    if n > 3:
        out.append(pickle.MARK)
    for x in obj:
        _opcodes(x, out)
    out.append(_TUPLE_N.get(n, pickle.TUPLE))


def _list(obj: list, out: list[bytes]) -> None:
    out.append(pickle.EMPTY_LIST)
    for i in range(0, len(obj), _APPEND_BATCH):
        batch = obj[i : i + _APPEND_BATCH]
        if len(batch) > 1:
            out.append(pickle.MARK)
        for x in batch:
            _opcodes(x, out)
        out.append(pickle.APPENDS if len(batch) > 1 else pickle.APPEND)


def _dict(obj: dict, out: list[bytes]) -> None:
    out.append(pickle.EMPTY_DICT)
    items = list(obj.items())
    for i in range(0, len(items), _APPEND_BATCH):
        batch = items[i : i + _APPEND_BATCH]
        if len(batch) > 1:
            out.append(pickle.MARK)
        for k, v in batch:
            _opcodes(k, out)
            _opcodes(v, out)
        out.append(pickle.SETITEMS if len(batch) > 1 else pickle.SETITEM)


_EMIT: dict[type, Callable[[Any, list[bytes]], None]] = {
    str: _str,
    int: _int,
    bool: lambda obj, out: out.append(pickle.NEWTRUE if obj else pickle.NEWFALSE),
    type(None): lambda obj, out: out.append(pickle.NONE),
    float: lambda obj, out: out.append(pickle.BINFLOAT + pack(">d", obj)),
    bytes: _bytes,
    tuple: _tuple,
    list: _list,
    dict: _dict,
}


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars so the pickle names no numpy scalar types."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


class AnnotationWriter:
    """Stream annotations to `path` (atomic: all or nothing).

    with AnnotationWriter(path, combined=True) as w:
        for a in annotations: w.add(a)
        w.split = {...}   # combined pickles only; may be set after the annotations

    A combined pickle is `{'annotations': [...], 'split': {...}}` (the split is written last, so
    it can depend on which samples made it); combined=False writes the plain list older
    MMAction2 configs expect.

    With `sort_by` (a key, e.g. "frame_dir"), annotations may come in any order; the pickle
    lists them sorted by that key (two with the same key: ValueError). While they come in order
    they are written straight through; from the first one out of order, those written so far
    move to a spill file beside `path`, every later one is pickled into it as it comes, and the
    pickle is assembled in key order at the end. Memory stays one annotation plus the keys; the
    bytes are those of adding them in sorted order (each annotation's bytes stand alone).
    Packaging needs this: shards are hash buckets of the sample names.
    """

    def __init__(
        self, path: str | os.PathLike, combined: bool = True, sort_by: str | None = None
    ) -> None:
        self.path = path
        self.combined = combined
        self.sort_by = sort_by
        self.split: Mapping[str, list[str]] | None = None
        self.count = 0
        self._batch = 0
        # with sort_by: (key, offset, length) of each annotation's bytes, in the pickle being
        # written while they come in order, in the spill file after that
        self._entries: list[tuple[Any, int, int]] = []
        self._spill: IO[bytes] | None = None
        self._body = 0  # where the first annotation starts in the pickle

    def __enter__(self) -> AnnotationWriter:
        self._ctx = atomic_write(self.path)
        self._f = self._ctx.__enter__()
        out = [pickle.PROTO + bytes([PROTOCOL])]
        if self.combined:
            out.append(pickle.EMPTY_DICT)
            _opcodes("annotations", out)
        out.append(pickle.EMPTY_LIST)
        self._f.write(b"".join(out))
        self._body = self._f.tell()
        return self

    def add(self, anno: Mapping[str, Any]) -> None:
        out: list[bytes] = []
        _opcodes({k: _plain(v) for k, v in anno.items()}, out)
        data = b"".join(out)
        self.count += 1
        if self.sort_by is None:
            self._write(data)
            return
        key = anno[self.sort_by]
        if self._spill is None and (not self._entries or key > self._entries[-1][0]):
            start = self._f.tell() + (self._batch == 0)  # after the batch's MARK
            self._entries.append((key, start, len(data)))
            self._write(data)
            return
        if self._spill is None:
            self._start_spill()
        assert self._spill is not None
        self._entries.append((key, self._spill.tell(), len(data)))
        self._spill.write(data)

    def _write(self, data: bytes) -> None:
        """One annotation's bytes into the pickle, in APPENDS batches as pickle.py writes."""
        out = [pickle.MARK, data] if self._batch == 0 else [data]
        self._batch += 1
        if self._batch == _APPEND_BATCH:
            out.append(pickle.APPENDS)
            self._batch = 0
        self._f.write(b"".join(out))

    def _start_spill(self) -> None:
        """The first annotation out of order: move those written so far to a spill file."""
        self._f.flush()
        pickle_fd = self._f.fileno()  # mkstemp's descriptor is open for reading too
        self._spill = tempfile.TemporaryFile(dir=os.path.dirname(os.path.abspath(self.path)))
        moved = []
        for key, offset, length in self._entries:
            moved.append((key, self._spill.tell(), length))
            self._spill.write(os.pread(pickle_fd, length, offset))
        self._entries = moved
        self._f.seek(self._body)
        self._f.truncate()
        self._batch = 0

    def _finish(self) -> None:
        if self._spill is not None:
            self._spill.flush()
            fd = self._spill.fileno()
            self._entries.sort(key=lambda e: e[0])
            for i, (key, offset, length) in enumerate(self._entries):
                if i and key == self._entries[i - 1][0]:
                    raise ValueError(f"{self.path}: two annotations with {self.sort_by} {key!r}")
                self._write(os.pread(fd, length, offset))
        out = [pickle.APPENDS] if self._batch else []
        if self.combined:
            if self.split is None:
                raise ValueError(f"{self.path}: combined annotation pickle without a split")
            out.append(pickle.SETITEM)
            _opcodes("split", out)
            _opcodes({k: list(v) for k, v in self.split.items()}, out)
            out.append(pickle.SETITEM)
        out.append(pickle.STOP)
        self._f.write(b"".join(out))

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                try:
                    self._finish()
                except BaseException as e:  # abort: the temporary file is removed
                    self._ctx.__exit__(type(e), e, e.__traceback__)
                    raise
            self._ctx.__exit__(exc_type, exc, tb)
        finally:
            if self._spill is not None:
                self._spill.close()


def write_annotations(
    path: str | os.PathLike,
    annotations: Iterable[Mapping[str, Any]],
    split: Mapping[str, list[str]] | None = None,
) -> int:
    """Write a combined pickle (or, with split=None, a plain list of annotations)."""
    with AnnotationWriter(path, combined=split is not None) as w:
        for a in annotations:
            w.add(a)
        w.split = split
    return w.count


def annotations_and_split(data: Any) -> tuple[list, dict]:
    """(annotations, split) of a loaded pickle in either released layout: the combined
    {'split', 'annotations'} dict, or a plain list of annotations (split: {})."""
    if isinstance(data, dict) and "annotations" in data:
        return data["annotations"], data.get("split") or {}
    return data, {}


def load(path: str | os.PathLike) -> Any:
    """Load a pickle with the restricted loader (`skeleton.core.safeload`: no code runs from it)."""
    from skeleton.core.safeload import load as safe_load

    return safe_load(path)
