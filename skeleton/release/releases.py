"""The published pickles and checkpoints in config/releases.yaml, with config overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from skeleton.core.fetch import checkpoint_sha256_prefix, fetch

# config/releases.yaml of a source checkout (the workflow passes its own path explicitly).
DEFAULT_RELEASES_YAML = Path(__file__).resolve().parents[2] / "config" / "releases.yaml"
SECTIONS = ("releases", "checkpoints")


@dataclass(frozen=True)
class Release:
    name: str
    url: str
    sha256: str | None = None
    sha256_prefix: str | None = None
    kind: str | None = None
    num_classes: int | None = None
    description: str = ""

    @property
    def expected_prefix(self) -> str | None:
        """The prefix to check: the configured one, else the one an OpenMMLab name carries."""
        if self.sha256:
            return None
        return self.sha256_prefix or checkpoint_sha256_prefix(self.url)


def fetch_params(entries: Mapping[str, Release], offline: bool = False) -> dict[str, Any]:
    """Params of a workflow fetch rule whose one wildcard names an entry (scripts/fetch_release).

    URL and checksums are plain strings, so changing one in the config reruns the download.
    """
    return {
        "name": lambda wc: entries[wc[0]].name,
        "url": lambda wc: entries[wc[0]].url,
        "sha256": lambda wc: entries[wc[0]].sha256 or "",
        "sha256_prefix": lambda wc: entries[wc[0]].expected_prefix or "",
        "offline": offline,
    }


def _merge(base: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, dict]:
    merged = {name: dict(entry) for name, entry in base.items()}
    for name, entry in (override or {}).items():
        if isinstance(entry, str):  # shorthand: name: URL
            entry = {"url": entry}
        merged[name] = {**merged.get(name, {}), **dict(entry or {})}
    return merged


def load_releases(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    section: str = "releases",
) -> dict[str, Release]:
    """Entries of `section` ('releases' or 'checkpoints') of the YAML at `path`, overridden
    field by field by `overrides` (a config's section of the same shape, or name: URL)."""
    if section not in SECTIONS:
        raise ValueError(f"section must be one of {SECTIONS}, got {section!r}")
    with open(path or DEFAULT_RELEASES_YAML, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    entries = _merge(data.get(section) or {}, overrides)
    releases: dict[str, Release] = {}
    for name, entry in entries.items():
        if not entry.get("url"):
            raise ValueError(f"{section}.{name}: no url")
        releases[name] = Release(
            name=name,
            url=str(entry["url"]),
            sha256=entry.get("sha256") or None,
            sha256_prefix=entry.get("sha256_prefix") or None,
            kind=entry.get("kind"),
            num_classes=entry.get("num_classes"),
            description=str(entry.get("description") or ""),
        )
    return releases


def fetch_release(release: Release, out: str | os.PathLike[str], **kwargs: Any) -> Path:
    """`skeleton.core.fetch.fetch` with the entry's URL and checksum."""
    return fetch(
        release.url,
        out,
        sha256=release.sha256,
        sha256_prefix=release.expected_prefix,
        **kwargs,
    )


class ReleaseCheckError(Exception):
    """A downloaded release failed its checks; the message lists the problems."""


def _box_summary(data: Any) -> list[str]:
    """A few facts about a non-annotation pickle (FineGYM ground-truth boxes)."""
    lines = [f"type: {type(data).__name__}, {len(data) if hasattr(data, '__len__') else 1} items"]
    if isinstance(data, Mapping) and data:
        key, value = next(iter(data.items()))
        shape = getattr(value, "shape", None)
        lines.append(f"first item: {key!r} -> {type(value).__name__} {shape or ''}".rstrip())
    return lines


def check_release(
    pkl: str | os.PathLike[str],
    report_path: str | os.PathLike[str],
    kind: str | None = None,
    num_classes: int | None = None,
    max_problems: int = 50,
) -> None:
    """Safe-load a downloaded pickle, validate it (annotation kinds) and write a text summary.

    The summary holds the file's sha256 (to pin in releases.yaml), the validation result and
    `skeleton info`'s description. Raises `safeload.UnsafePickleError` or `ReleaseCheckError`
    (after printing the problems) instead of writing the summary when the file is not usable.
    """
    from skeleton.core import safeload
    from skeleton.core.files import atomic_write, sha256_file
    from skeleton.core.validate import format_problems, iter_lines, validate_data
    from skeleton.release.describe import describe

    source = os.fspath(pkl)
    lines = [f"file: {source}", f"sha256: {sha256_file(source)}"]
    data = safeload.load(source)
    if kind == "boxes":
        lines += _box_summary(data)
    else:
        report = validate_data(data, num_classes)
        if not report.ok:
            for line in format_problems(report.problems, max_problems):
                print(f"{source}: {line}")
            raise ReleaseCheckError(f"{source}: {len(report.problems)} format problems")
        if kind and report.kind != kind:
            raise ReleaseCheckError(f"{source}: expected a {kind} pickle, found {report.kind}")
        lines += list(iter_lines(report, source, max_problems))
        lines += describe(data)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    with atomic_write(report_path) as fh:
        fh.write(text.encode())


RAW_FOLDER = "data/raw"


def is_url(entry: str) -> bool:
    """http(s) and file:// entries are downloaded; anything else is a local path."""
    return entry.split("://", 1)[0].lower() in ("http", "https", "file") and "://" in entry


def raw_downloads(entries: list[str], dataset: str = "ntu") -> dict[str, str]:
    """{local path under data/raw/<dataset>/: URL} for the URL entries of an input list."""
    downloads: dict[str, str] = {}
    for entry in entries:
        if is_url(entry):
            from skeleton.core.fetch import FetchError, url_file_name

            try:
                name = url_file_name(entry)
            except FetchError as exc:
                raise ValueError(str(exc)) from None
            local = f"{RAW_FOLDER}/{dataset}/{name}"
            if downloads.get(local, entry) != entry:
                raise ValueError(f"{entry}: file name {name!r} also used by {downloads[local]}")
            downloads[local] = entry
    return downloads


def local_inputs(entries: list[str], dataset: str = "ntu") -> list[str]:
    """The input list with each URL replaced by where rule fetch_raw downloads it."""
    local = {url: path for path, url in raw_downloads(entries, dataset).items()}
    return [local.get(entry, entry) for entry in entries]
