"""A restricted unpickler for annotation pickles downloaded from elsewhere.

`pickle.load` runs whatever callables a pickle names: a downloaded "annotation" file can call
`os.system`. `load` resolves globals only from a fixed allow-list (builtin containers and
scalars, numpy array / dtype / scalar reconstruction) and raises `UnsafePickleError` naming the
first other `module.name` it meets, before anything from that module is imported or called.

The numpy names are the ones numpy itself writes (checked against pickles of float16/float32/
int/str/bool/complex/structured arrays and numpy scalars, protocols 0-5): numpy 1.x spells the
module `numpy.core.*`, numpy 2 `numpy._core.*`; both resolve to the running numpy's objects.
Protocols 0-2 store bytes through `_codecs.encode(str, 'latin1')`; that one is replaced by a
function that only does latin-1 encoding.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Callable
from typing import IO, Any

import numpy as np

__all__ = ["UnsafePickleError", "ALLOWED_GLOBALS", "load", "loads"]


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list; nothing of it was executed."""

    def __init__(self, global_name: str, source: str = "") -> None:
        self.global_name = global_name
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(
            f"{where}refused unsafe pickle: it references {global_name!r}, which is not an "
            "allowed builtin container/scalar or numpy array/dtype/scalar"
        )


_BUILTIN_TYPES: tuple[type, ...] = (
    dict,
    list,
    tuple,
    set,
    frozenset,
    str,
    bytes,
    int,
    float,
    bool,
    complex,
)


def _latin1_encode(obj: object, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """Stand-in for `_codecs.encode` as protocol 0-2 pickles use it for bytes payloads."""
    if not isinstance(obj, str) or encoding.lower().replace("_", "-") not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"_codecs.encode({type(obj).__name__}, {encoding!r})")
    return obj.encode("latin-1", errors)


def _numpy_core() -> tuple[Any, Any]:
    """The running numpy's multiarray and numeric modules (numpy 2: `_core`, 1.x: `core`)."""
    try:
        from numpy._core import multiarray, numeric  # numpy >= 2
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray, numeric  # type: ignore[no-redef]
    return multiarray, numeric


def _allowed_globals() -> dict[tuple[str, str], Callable[..., Any]]:
    multiarray, numeric = _numpy_core()
    table: dict[tuple[str, str], Callable[..., Any]] = {}
    for typ in _BUILTIN_TYPES:
        table[("builtins", typ.__name__)] = typ
        table[("__builtin__", typ.__name__)] = typ  # protocol 0-2 pickles written by Python 2
    for core in ("numpy.core", "numpy._core"):
        table[(f"{core}.multiarray", "_reconstruct")] = multiarray._reconstruct
        table[(f"{core}.multiarray", "scalar")] = multiarray.scalar
        table[(f"{core}.numeric", "_frombuffer")] = numeric._frombuffer  # protocol 5
    try:  # numpy >= 2: arrays of the variable-width StringDType
        from numpy._core import _internal

        table[("numpy._core._internal", "_convert_to_stringdtype_kwargs")] = (
            _internal._convert_to_stringdtype_kwargs
        )
    except (ImportError, AttributeError):
        pass
    table[("numpy", "ndarray")] = np.ndarray
    table[("numpy", "dtype")] = np.dtype
    table[("_codecs", "encode")] = _latin1_encode
    return table


ALLOWED_GLOBALS: dict[tuple[str, str], Callable[..., Any]] = _allowed_globals()


class _SafeUnpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], source: str = "") -> None:
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"{module}.{name}", self._source) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"persistent id {pid!r}", self._source)


def load(path_or_file: str | os.PathLike[str] | IO[bytes]) -> Any:
    """Unpickle a file (path or binary file object) allowing only safe globals.

    Raises `UnsafePickleError` for a disallowed global, and the usual `pickle.UnpicklingError`
    / `EOFError` / `ValueError` for a corrupt file.
    """
    if isinstance(path_or_file, str | os.PathLike):
        source = os.fspath(path_or_file)
        with open(source, "rb") as fh:
            return _SafeUnpickler(fh, source).load()
    return _SafeUnpickler(path_or_file, getattr(path_or_file, "name", "")).load()


def loads(data: bytes) -> Any:
    """`load` for an in-memory pickle."""
    return _SafeUnpickler(io.BytesIO(data)).load()
