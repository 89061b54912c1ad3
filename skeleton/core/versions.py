"""Installed versions of the libraries a result depends on (manifests, model tags)."""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType


def library_versions(names: Iterable[str]) -> dict[str, str | None]:
    """name -> installed version, None for a library that is not installed."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def module_versions(modules: Iterable[str]) -> dict[str, dict[str, str | None] | None]:
    """module -> what this interpreter imports under that name: its `__version__` and the
    installed distribution its file belongs to, `name==version` (None: not importable).

    What runs is the module, not a distribution name: `cv2` may come from opencv-python or
    opencv-python-headless (both are version 4.x.y of the same `cv2`), and a module may be
    shadowed by another install, so the version is read from the module itself and its owner
    found from the file it was loaded from."""
    out: dict[str, dict[str, str | None] | None] = {}
    owners = importlib.metadata.packages_distributions()
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:
            out[name] = None
            continue
        version = getattr(module, "__version__", None)
        out[name] = {
            "version": None if version is None else str(version),
            "distribution": _owner(module, owners.get(name.split(".")[0], [])),
        }
    return out


def _owner(module: ModuleType, candidates: list[str]) -> str | None:
    """`name==version` of the distribution whose files hold the module's file."""
    path = getattr(module, "__file__", None)
    if not path:
        return None
    path = Path(path).resolve()
    depth = module.__name__.count(".") + (path.name == "__init__.py")
    site = path.parents[depth]
    relative = path.relative_to(site).as_posix()
    for dist_name in dict.fromkeys(candidates):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            continue
        located = Path(str(dist.locate_file(""))).resolve()
        if located == site and any(f.as_posix() == relative for f in dist.files or ()):
            return f"{dist.metadata['Name']}=={dist.version}"
    return None
