"""Official annotation files of the video datasets as users download them (text only).

HMDB51's split folder holds a file per class and split for all 51 classes: the classes a test is
about get the lines it gives, every other class one video used for training in all three splits
(`FILLER` in its name), so each test's folder is a complete, valid HMDB51 folder.
"""

from __future__ import annotations

from pathlib import Path

from skeleton.datasets import label_map

HMDB51_CLASSES = label_map("hmdb51")
HMDB51_FOLDER = "testTrainMulti_7030_splits"
FILLER = "filler"


def hmdb51_filler(cls: str) -> str:
    """The one video of a class a test is not about (as HMDB51 names its videos)."""
    return f"{cls}_{FILLER}_f_cm_np1_fr_med_0"


def write_hmdb51_splits(folder: Path, roles: dict[str, dict[str, str]]) -> Path:
    """`folder/<class>_test_split{1,2,3}.txt` for the 51 classes, as the official rar unpacks:
    `<video>.avi <id> ` lines (with the trailing space), LF endings. `roles` is {class:
    {video file: ids in splits 1, 2, 3}} (1 train, 2 test, 0 not used)."""
    folder.mkdir(parents=True, exist_ok=True)
    for cls in HMDB51_CLASSES:
        videos = roles.get(cls, {f"{hmdb51_filler(cls)}.avi": "111"})
        for k in range(3):
            text = "".join(f"{v} {ids[k]} \n" for v, ids in videos.items())
            (folder / f"{cls}_test_split{k + 1}.txt").write_text(text)
    return folder


def without_filler(split: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: [n for n in v if FILLER not in n] for k, v in split.items()}
