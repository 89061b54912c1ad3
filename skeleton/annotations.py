"""Writing and reading annotation pickles (the MMAction2 / PYSKL format).

`AnnotationWriter` streams `{'annotations': [...], 'split': ...}` to disk one annotation at a time,
so packaging never holds the dataset twice. Arrays are written with the global names numpy 1.x
uses (`numpy.core.multiarray._reconstruct`): numpy 2 loads those too, while pickles that name
`numpy._core` (numpy 2's default) cannot be loaded by the numpy 1.x stacks most MMAction2 / PYSKL
users run. No memo is used, so every annotation is self-contained and the bytes depend only on
the data.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Mapping
from typing import IO, Any

import numpy as np

from skeleton.files import atomic_write

PROTOCOL = 4
_APPEND_BATCH = 1000  # items per APPENDS opcode, as the stdlib pickler does

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
    """

    def __init__(self, path: str | os.PathLike, combined: bool = True) -> None:
        self.path = path
        self.combined = combined
        self.split: Mapping[str, list[str]] | None = None
        self.count = 0
        self._batch = 0

    def __enter__(self) -> AnnotationWriter:
        self._ctx = atomic_write(self.path)
        self._f = self._ctx.__enter__()
        self._p = _Pickler(self._f)
        w = self._p.write
        w(pickle.PROTO + bytes([PROTOCOL]))
        if self.combined:
            w(pickle.EMPTY_DICT)
            self._p.save("annotations")
        w(pickle.EMPTY_LIST)
        return self

    def add(self, anno: Mapping[str, Any]) -> None:
        if self._batch == 0:
            self._p.write(pickle.MARK)
        self._p.save({k: _plain(v) for k, v in anno.items()})
        self._batch += 1
        self.count += 1
        if self._batch == _APPEND_BATCH:
            self._p.write(pickle.APPENDS)
            self._batch = 0

    def _finish(self) -> None:
        if self._batch:
            self._p.write(pickle.APPENDS)
        if self.combined:
            if self.split is None:
                raise ValueError(f"{self.path}: combined annotation pickle without a split")
            self._p.write(pickle.SETITEM)
            self._p.save("split")
            self._p.save({k: list(v) for k, v in self.split.items()})
            self._p.write(pickle.SETITEM)
        self._p.write(pickle.STOP)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self._finish()
            except BaseException as e:  # abort: the temporary file is removed
                self._ctx.__exit__(type(e), e, e.__traceback__)
                raise
        self._ctx.__exit__(exc_type, exc, tb)


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


def load(path: str | os.PathLike) -> Any:
    """Load a pickle with the restricted loader (`skeleton.safeload`: no code runs from it)."""
    from skeleton.safeload import load as safe_load

    return safe_load(path)
