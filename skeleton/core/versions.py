"""Installed versions of the libraries a result depends on (manifests, model tags)."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable


def library_versions(names: Iterable[str]) -> dict[str, str | None]:
    """name -> installed version, None for a library that is not installed."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out
