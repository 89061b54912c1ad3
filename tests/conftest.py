"""Shared fixtures: the real data in ../shared (skipped cleanly when absent) and synthetic data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SKELETON_SHARED", REPO.parent / "shared"))
REAL_SKELETONS = SHARED / "ntu" / "skeletons"
GOLDEN = SHARED / "ntu" / "golden" / "real_samples.npz"
MALFORMED = SHARED / "ntu" / "malformed" / "S001C001P001R001A002.skeleton"


def need_shared(path: Path = REAL_SKELETONS) -> None:
    if not path.exists():
        pytest.skip(f"real NTU data not available: {path} is absent (../shared)")


@pytest.fixture
def real_dir() -> Path:
    need_shared(REAL_SKELETONS)
    return REAL_SKELETONS


@pytest.fixture(scope="session")
def synth_ntu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 synthetic NTU60-range + 40 NTU120 files (read-only for tests: copy before changing)."""
    from skeleton.ntu.synth import write_synthetic

    root = tmp_path_factory.mktemp("synth")
    write_synthetic(root / "ntu60", 40, seed=3)
    write_synthetic(root / "ntu120", 40, seed=4, ntu120=True)
    return root


def skeleton_cmd() -> list[str]:
    return [sys.executable, "-m", "skeleton"]
