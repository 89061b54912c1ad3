"""BLAS threads for the 3D commands and their workflow jobs."""

from __future__ import annotations

import os

# numpy's OpenBLAS starts a thread per core at import (CPU time in every short job, and spinning
# threads later); the 3D path's numpy work is elementwise or reductions, never BLAS.
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_blas() -> None:
    """One BLAS thread, unless the user chose otherwise; only effective before numpy loads."""
    for var in BLAS_THREAD_VARS:
        os.environ.setdefault(var, "1")
