"""Load pickles with CPython's own unpickler, restricted to the globals the safe loader allows,
and print what each one holds in a canonical form (the reference for tests/test_pickle_semantics.py).

    python tests/pickle_reference.py PICKLES.bin RESULTS.jsonl

PICKLES.bin holds the pickles one after another, each after its length (8 bytes, little
endian). Each is loaded twice, the ways MMAction2 / PYSKL readers do: `pickle.Unpickler` on an
`io.BytesIO` (mmengine.load) and on a buffered reader, which the C unpickler reads through
`peek` (pickle.load(open(...))). RESULTS.jsonl gets one line per pickle, written as soon as it
is known: {"ok": true, "canon": repr(canon(data))} when both loads succeed with the same data,
else {"ok": false, "error": ...}. The process runs under RLIMIT_AS (SKELETON_TEST_AS_MB,
default 3000 MB) and an alarm per pickle (SKELETON_TEST_TIMEOUT_S, default 60 s), so a pickle
that costs CPython more than that reads as an error, not as data.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import resource
import signal
import struct
import sys
import warnings
from typing import Any

import numpy as np


def canon(obj: Any) -> Any:
    """`obj` as nested tuples of plain values: equal exactly when the types, values (float
    bits included) and numpy dtypes, shapes and bytes are."""
    t = type(obj)
    if t is float:
        return ("float", struct.pack(">d", obj))
    if t is complex:
        return ("complex", struct.pack(">dd", obj.real, obj.imag))
    if t in (int, bool, str, bytes, type(None)):
        return (t.__name__, obj)
    if t is bytearray:
        return ("bytearray", bytes(obj))
    if t in (list, tuple):
        return (t.__name__, tuple(canon(x) for x in obj))
    if t is dict:
        return ("dict", tuple((canon(k), canon(v)) for k, v in obj.items()))
    if t in (set, frozenset):
        return (t.__name__, tuple(sorted(repr(canon(x)) for x in obj)))
    if t is np.ndarray:
        return ("ndarray", obj.dtype.str, repr(obj.dtype), obj.shape, obj.tobytes())
    if isinstance(obj, np.generic):
        return ("numpy." + t.__name__, obj.dtype.str, obj.tobytes())
    if isinstance(obj, np.dtype):
        return ("dtype", obj.str, repr(obj), obj.byteorder)
    return ("other", t.__module__, t.__qualname__)


def _allowed() -> frozenset[tuple[str, str]]:
    from skeleton.core.safeload import ALLOWED_GLOBALS

    return frozenset(ALLOWED_GLOBALS)


class RestrictedUnpickler(pickle.Unpickler):
    """CPython's C unpickler; globals outside the safe loader's list are an error."""

    allowed: frozenset[tuple[str, str]] = frozenset()

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.allowed:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        return super().find_class(module, name)


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def reference(data: bytes) -> dict:
    results = []
    for wrap in (io.BytesIO, lambda d: io.BufferedReader(io.BytesIO(d))):
        try:
            results.append(repr(canon(RestrictedUnpickler(wrap(data)).load())))
        except _Timeout:
            return {"ok": False, "error": "timeout"}
        except BaseException as exc:  # noqa: BLE001 - MemoryError, RecursionError included
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    if results[0] != results[1]:
        return {"ok": False, "error": "BytesIO and buffered reader read different data"}
    return {"ok": True, "canon": results[0]}


def read_pickles(path: str) -> list[bytes]:
    with open(path, "rb") as f:
        blob = f.read()
    out, k = [], 0
    while k < len(blob):
        (n,) = struct.unpack_from("<Q", blob, k)
        out.append(blob[k + 8 : k + 8 + n])
        k += 8 + n
    return out


def write_pickles(path: str, pickles: list[bytes]) -> None:
    with open(path, "wb") as f:
        for data in pickles:
            f.write(struct.pack("<Q", len(data)) + data)


def main() -> int:
    source, results_path = sys.argv[1:3]
    pickles = read_pickles(source)
    RestrictedUnpickler.allowed = _allowed()
    warnings.simplefilter("ignore", DeprecationWarning)  # numpy.core names, as users see them
    as_bytes = int(os.environ.get("SKELETON_TEST_AS_MB", "3000")) << 20
    timeout_s = int(os.environ.get("SKELETON_TEST_TIMEOUT_S", "60"))
    resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))
    signal.signal(signal.SIGALRM, _alarm)
    with open(results_path, "w") as out:
        for data in pickles:
            signal.alarm(timeout_s)
            result = reference(data)
            signal.alarm(0)
            out.write(json.dumps(result) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
