"""manifest.json beside an NTU 3D pickle: what made it (versions, the 3D settings), what it holds
(counts per split and reject reason), and what it was made from (per input folder or archive:
file count and a sha256 over its files' sha256)."""

from __future__ import annotations

import json
import os
import platform
from typing import Any

import numpy as np

from skeleton import __version__
from skeleton.core.files import Source, atomic_write, sha256_bytes


def _input_digest(checksums: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per input (folder or zip archive): file count and a sha256 over sorted (file, sha256)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for sid, digest in sorted(checksums.items()):
        src = Source.from_id(sid)
        root = src.path if src.member is not None else os.path.dirname(src.path)
        groups.setdefault(root, []).append((src.filename, digest))
    return {
        root: {"files": len(items), "sha256": sha256_bytes(json.dumps(items).encode())}
        for root, items in groups.items()
    }


def write_manifest(
    path: str, dataset: str, counts: dict[str, Any], checksums: dict[str, str], config: dict
) -> None:
    from skeleton.core.versions import library_versions

    doc = {
        "dataset": dataset,
        "kind": "3d",
        "versions": {
            "skeleton": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            **library_versions(["snakemake"]),
        },
        "config": config,
        "counts": counts,
        "inputs": _input_digest(checksums),
    }
    with atomic_write(path, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
