"""Video files: the extensions a video search takes, and the one naming rule of a video's
sample (frame_dir) everywhere: the file's base name without its last extension."""

from __future__ import annotations

import os

# Containers the released datasets come in (UCF101/HMDB51 .avi, Diving48/FineGYM/K400 .mp4,
# some K400 mirrors .webm/.mkv) and a few other common ones.
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv")


def file_stem(name: str) -> str:
    """A file name without its extension: only the last dot starts it, so `my.clip.v2.mp4` is
    `my.clip.v2` and `clip.1.mp4` and `clip.2.mp4` stay two samples. PYSKL's
    tools/data/custom_2d_skeleton.py cuts at the first dot instead (`osp.basename(path).split(
    '.')[0]`: `my`), which merges such names. A name without a dot is its own stem."""
    return name.rsplit(".", 1)[0] if "." in name else name


def video_stem(name: str | os.PathLike) -> str:
    """frame_dir of a video file name or path as a list writes it (Windows separators too): the
    stem of its base name. A name listed without its extension loses its last dotted part."""
    return file_stem(os.path.basename(os.fspath(name).replace("\\", "/")))
