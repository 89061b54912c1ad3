"""Data files shipped inside the package (skeleton/data/), so a plain `pip install` has them.

The workflow reads the same copies (rules pass `label_map_path(...)`), so there is one of each.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
LABEL_MAP_DIR = DATA_DIR / "label_maps"  # <dataset>.txt: class names, line k = label k
NTU_MISSING_DIR = DATA_DIR / "ntu"  # the official lists of samples with missing skeletons


def label_map_path(name: str) -> Path:
    """The shipped label map of `name` (ntu60, ntu120, ucf101, ...); it may not exist."""
    return LABEL_MAP_DIR / f"{name}.txt"
