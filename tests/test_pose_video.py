"""In-memory video decoding: frame counts and shapes from the video, clear errors otherwise;
decoding ahead in a thread hands over the same batches and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_VIDEO, NTU_VIDEO, write_grey_video

cv2 = pytest.importorskip("cv2")

from skeleton.pose.video import (  # noqa: E402
    FramePrefetcher,
    VideoError,
    VideoInfo,
    frame_batches,
    iter_frame_batches,
    probe,
    read_video,
)

needs_video = pytest.mark.skipif(not NTU_VIDEO.is_file(), reason=f"{NTU_VIDEO} not available")


def write_counter_video(path: Path, n: int, size: tuple[int, int] = (96, 64)) -> None:
    """Frame i uniformly at grey level 10 i mod 250 (the order is checkable)."""
    write_grey_video(path, n, size, step=10)


def test_batches_keep_order_and_count(tmp_path):
    path = tmp_path / "counter.avi"
    write_counter_video(path, 23)
    batches = list(iter_frame_batches(path, 8))
    assert [len(b) for b in batches] == [8, 8, 7]
    levels = [int(round(f.mean())) for b in batches for f in b]
    assert all(abs(level - 10 * i) <= 2 for i, level in enumerate(levels))
    frames, info = read_video(path)
    assert len(frames) == info.decoded_frames == 23
    assert info.img_shape == (64, 96)
    assert frames[0].dtype == np.uint8 and frames[0].shape == (64, 96, 3)


@needs_video
def test_real_ntu_video_shape_and_frame_count():
    info = probe(NTU_VIDEO)
    assert info.decoded_frames == 103
    assert info.img_shape == (1080, 1920)


@needs_video
def test_demo_clip_decodes():
    info = probe(DEMO_VIDEO)
    assert info.decoded_frames > 0 and info.img_shape == (1080, 1920)


def reason_of(path) -> str:
    with pytest.raises(VideoError) as err:
        probe(path)
    assert str(path) in str(err.value)
    return err.value.reason


def test_missing_file(tmp_path):
    assert reason_of(tmp_path / "absent.avi") == "missing_video"


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.avi"
    path.write_bytes(b"")
    assert reason_of(path) == "empty_video"


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.avi"
    path.write_text("this is not a video\n" * 50)
    assert reason_of(path) == "undecodable_video"


def test_directory_is_not_a_video(tmp_path):
    assert reason_of(tmp_path) == "not_a_video"


def test_video_without_frames(tmp_path):
    path = tmp_path / "zero.avi"
    cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (96, 64)).release()
    assert path.stat().st_size > 0
    assert reason_of(path) in {"no_frames", "undecodable_video"}


@needs_video
def test_truncated_real_video(tmp_path):
    data = NTU_VIDEO.read_bytes()
    path = tmp_path / "S001C001P001R001A001_rgb.avi"
    path.write_bytes(data[: len(data) * 2 // 5])
    assert reason_of(path) == "truncated_video"


def test_truncated_synthetic_video(tmp_path):
    full = tmp_path / "full.avi"
    write_counter_video(full, 60, size=(320, 240))
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    assert reason_of(cut) in {"truncated_video", "undecodable_video"}


# ---- decoding ahead in a thread: the same batches and the same errors --------------------------


def batches_and_error(batches) -> tuple[list[list[np.ndarray]], str | None]:
    got, reason = [], None
    try:
        for b in batches:
            got.append(b)
    except VideoError as exc:
        reason = exc.reason
    return got, reason


@pytest.mark.parametrize("depth", [1, 3])
def test_prefetcher_gives_the_batches_of_iter_frame_batches(tmp_path, depth):
    path = tmp_path / "counter.avi"
    write_counter_video(path, 23)
    info_a, info_b = VideoInfo(str(path), 0, 0.0), VideoInfo(str(path), 0, 0.0)
    plain = list(iter_frame_batches(path, 8, info_a))
    with FramePrefetcher(path, 8, info_b, depth=depth) as ahead:
        fetched = list(ahead)
    assert [len(b) for b in fetched] == [8, 8, 7]
    assert all(
        np.array_equal(x, y)
        for a, b in zip(plain, fetched, strict=True)
        for x, y in zip(a, b, strict=True)
    )
    assert info_b == info_a and info_b.decoded_frames == 23


def test_prefetcher_raises_where_decoding_fails(tmp_path):
    full = tmp_path / "full.avi"
    write_counter_video(full, 60, size=(320, 240))
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    plain = batches_and_error(iter_frame_batches(cut, 8))
    ahead = batches_and_error(frame_batches(cut, 8, prefetch=2))
    assert plain[1] is not None and ahead[1] == plain[1]
    assert [len(b) for b in ahead[0]] == [len(b) for b in plain[0]]
    assert batches_and_error(frame_batches(tmp_path / "absent.avi", 8, prefetch=2)) == (
        [],
        "missing_video",
    )


def test_prefetcher_closed_early_stops_its_thread(tmp_path):
    path = tmp_path / "counter.avi"
    write_counter_video(path, 40)
    ahead = FramePrefetcher(path, 4, depth=1)
    assert len(next(ahead)) == 4
    ahead.close()
    assert not ahead._thread.is_alive()
    assert list(ahead) == []
