"""The extractor and resumable shards, end to end on synthetic videos, in the main env.

The backend here is a real (if trivial) two-stage backend: OpenCV finds the bright rectangles
of the synthetic videos (the "persons") and places the 17 keypoints on a fixed grid inside each
box. It exercises decoding, batching, frame alignment, tracking, NTU post-processing, rejects and
resuming without torch; the YOLO backend is tested in test_pose_yolo.py.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import BIG_PERSON, write_people_video

cv2 = pytest.importorskip("cv2")

from skeleton.core.annotations import load  # noqa: E402
from skeleton.core.rejects import read_rejects  # noqa: E402
from skeleton.pose.base import PoseBackend, run_backend  # noqa: E402
from skeleton.pose.extract import ExtractOptions, extract_video, sample_name  # noqa: E402
from skeleton.pose.shard import extract_in_flight, pose_shard  # noqa: E402

W, H = 160, 120  # write_people_video's frames
write_big_video = functools.partial(write_people_video, size=(320, 240), box=BIG_PERSON)


class BlobBackend:
    """Bright connected components as persons; keypoints on a grid inside each box."""

    name = "blob"

    def __init__(self) -> None:
        self.frames_seen = 0

    def detect(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        self.frames_seen += len(frames)
        out = []
        for f in frames:
            mask = (cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) > 128).astype(np.uint8)
            n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
            boxes = [[x, y, x + w, y + h, 0.9] for x, y, w, h, area in stats[1:n] if area >= 30]
            out.append(np.array(boxes, np.float32).reshape(-1, 5))
        return out

    def estimate(self, frames, boxes):
        out = []
        for b in boxes:
            u = np.linspace(0.1, 0.9, 17, dtype=np.float32)
            kp = np.stack(
                [
                    b[:, None, 0] + u * (b[:, None, 2] - b[:, None, 0]),
                    b[:, None, 1] + u * (b[:, None, 3] - b[:, None, 1]),
                ],
                axis=-1,
            )
            out.append((kp.astype(np.float32), np.full((len(b), 17), 0.8, np.float32)))
        return out

    def describe(self) -> dict:
        return {"backend": self.name}


def test_backend_satisfies_protocol():
    assert isinstance(BlobBackend(), PoseBackend)


def test_two_stage_results_align_with_frames(tmp_path):
    frames = [np.zeros((H, W, 3), np.uint8) for _ in range(3)]
    frames[1][40:80, 10:30] = 255
    res = run_backend(BlobBackend(), frames)
    assert [len(b) for b, _, _ in res] == [0, 1, 0]
    assert res[1][1].shape == (1, 17, 2) and res[1][2].dtype == np.float32


def test_sample_names():
    assert sample_name("/x/S001C002P003R002A050_rgb.avi") == "S001C002P003R002A050"
    assert sample_name("clip.v2.mp4") == "clip.v2"


def test_ntu_two_person_video_late_entry(tmp_path):
    path = write_people_video(
        tmp_path / "S001C001P001R001A050_rgb.avi",
        25,
        lambda t: [20 + t] + ([120 - t] if t >= 6 else []),
    )
    a = extract_video(BlobBackend(), path, ExtractOptions(batch_size=4, postproc="tracks"))
    assert a["frame_dir"] == "S001C001P001R001A050" and a["label"] == 49
    assert a["total_frames"] == 25 and a["img_shape"] == a["original_shape"] == (H, W)
    k, s = a["keypoint"], a["keypoint_score"]
    assert k.shape == (2, 25, 17, 2) and k.dtype == np.float32 and s.shape == (2, 25, 17)
    present = s.sum(-1) > 0
    assert present[0].all()
    assert not present[1, :6].any() and present[1, 6:].all()
    assert k[0, :, 0, 0].mean() < k[1, 6:, 0, 0].mean()  # slots follow the same person


def test_generic_video_without_person_in_first_frames(tmp_path):
    path = write_people_video(tmp_path / "clip.avi", 20, lambda t: [50] if t >= 8 else [])
    a = extract_video(BlobBackend(), path, ExtractOptions(batch_size=3))
    assert a["label"] == -1 and a["keypoint"].shape == (1, 20, 17, 2)
    assert extract_video(BlobBackend(), path, ExtractOptions(label=7))["label"] == 7
    assert not a["keypoint"][:, :8].any() and (a["keypoint_score"][0, 8:] > 0).all()


def test_shard_rejects_bad_videos_and_resumes(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    good = write_people_video(videos / "S001C001P001R001A001_rgb.avi", 12, lambda t: [30 + t])
    empty = videos / "S001C001P001R001A002_rgb.avi"
    empty.write_bytes(b"")
    junk = videos / "S001C001P001R001A003_rgb.avi"
    junk.write_text("not a video\n" * 100)
    nobody = write_people_video(videos / "S001C001P001R001A004_rgb.avi", 10, lambda t: [])
    badname = write_people_video(videos / "someclip.avi", 10, lambda t: [30])
    out = tmp_path / "shard.pkl"
    rejects_tsv = tmp_path / "shard.rejects.tsv"
    backend = BlobBackend()
    builds = []

    def factory():
        builds.append(1)
        return backend

    opts = ExtractOptions(dataset="ntu", postproc="tracks")  # blobs: too small for mmaction2
    paths = [good, empty, junk, nobody, badname]
    n, rejects = pose_shard(paths, out, factory, opts, tmp_path / "work", rejects_tsv)
    assert n == 1 and len(builds) == 1
    reasons = {r.sample: r.reason for r in read_rejects(rejects_tsv)}
    assert reasons == {
        "S001C001P001R001A002": "empty_video",
        "S001C001P001R001A003": "undecodable_video",
        "S001C001P001R001A004": "no_person",
        "someclip": "bad_name",
    }
    annotations = load(out)
    assert isinstance(annotations, list) and annotations[0]["frame_dir"] == "S001C001P001R001A001"
    assert annotations[0]["total_frames"] == 12

    # a rerun (e.g. after the job was killed) keeps every finished video: no model load at all
    def no_factory():
        raise AssertionError("the model must not load when every video is finished")

    n2, rejects2 = pose_shard(paths, out, no_factory, opts, tmp_path / "work", rejects_tsv)
    assert n2 == 1 and sorted(rejects2) == sorted(rejects)

    # one new video: the model loads once, only the new video is decoded
    new = write_people_video(videos / "S001C001P001R001A005_rgb.avi", 7, lambda t: [60])
    seen = backend.frames_seen
    n3, _ = pose_shard(paths + [new], out, factory, opts, tmp_path / "work", rejects_tsv)
    assert n3 == 2 and len(builds) == 2 and backend.frames_seen - seen == 7
    assert [a["frame_dir"] for a in load(out)][-1] == "S001C001P001R001A005"


def test_unreadable_leftover_is_redone(tmp_path):
    good = write_people_video(tmp_path / "S001C001P001R001A001_rgb.avi", 5, lambda t: [30])
    work = tmp_path / "work"
    work.mkdir()
    (work / "S001C001P001R001A001.pkl").write_bytes(b"\x80\x04garbage")
    n, rejects = pose_shard(
        [good], tmp_path / "o.pkl", BlobBackend, ExtractOptions(postproc="tracks"), work
    )
    assert n == 1 and not rejects


def test_backend_crash_on_one_video_is_a_reject(tmp_path):
    class Flaky(BlobBackend):
        def detect(self, frames):
            if self.frames_seen >= 5:
                raise RuntimeError("CUDA out of memory (simulated by a backend bug)")
            return super().detect(frames)

    a = write_people_video(tmp_path / "S001C001P001R001A001_rgb.avi", 5, lambda t: [30])
    b = write_people_video(tmp_path / "S001C001P001R001A002_rgb.avi", 5, lambda t: [30])
    opts = ExtractOptions(batch_size=5, postproc="tracks")
    n, rejects = pose_shard([a, b], tmp_path / "o.pkl", Flaky, opts)
    assert n == 1 and [r.reason for r in rejects] == ["pose_failed"]
    assert "RuntimeError" in rejects[0].detail


def test_decoding_ahead_and_videos_in_flight_change_nothing(tmp_path):
    paths = [
        write_big_video(tmp_path / "S001C001P001R001A050_rgb.avi", 25, lambda t: [10 + t, 250 - t]),
        write_big_video(tmp_path / "S001C001P001R001A001_rgb.avi", 9, lambda t: [30 + t]),
        write_people_video(tmp_path / "S001C001P001R001A002_rgb.avi", 7, lambda t: []),  # no person
        write_people_video(tmp_path / "clip.avi", 11, lambda t: [50] if t >= 3 else []),
    ]
    for postproc in ("tracks", "mmaction2"):
        sequential = ExtractOptions(batch_size=4, postproc=postproc, prefetch=0)
        ahead = ExtractOptions(batch_size=4, postproc=postproc, prefetch=2)
        before = list(extract_in_flight(BlobBackend(), paths, sequential, in_flight=1))
        after = list(extract_in_flight(BlobBackend(), paths, ahead, in_flight=3))
        assert [p for p, _ in after] == [str(p) for p in paths]
        for (_, a), (_, b) in zip(before, after, strict=True):
            assert type(a) is type(b)
            if isinstance(a, dict):
                assert a.keys() == b.keys()
                for key in a:
                    assert np.array_equal(a[key], b[key]), (postproc, a["frame_dir"], key)
            else:
                assert (a.sample, a.reason) == (b.sample, b.reason)
        kinds = [type(r).__name__ for _, r in after]
        assert kinds == ["dict", "dict", "Reject", "dict"], (postproc, after)
        assert after[0][1]["keypoint"].shape == (2, 25, 17, 2)


def test_staged_prepares_the_next_input_while_the_current_one_runs():
    import threading

    from skeleton.pose.mmpose_backend import staged

    events, second_prepared = [], threading.Event()

    def prepare(x):
        events.append(("prepare", x))
        if x == 1:
            second_prepared.set()
        return x * 10

    def run(p):
        if p == 0:  # the next input is prepared while the first one runs
            assert second_prepared.wait(5)
        events.append(("run", p))
        return p + 1

    assert list(staged(prepare, run, range(3))) == [1, 11, 21]
    assert [e for e in events if e[0] == "run"] == [("run", 0), ("run", 10), ("run", 20)]
    assert list(staged(prepare, run, [])) == []

    def bad(x):
        raise ValueError(f"cannot prepare {x}")

    with pytest.raises(ValueError, match="cannot prepare 0"):
        list(staged(bad, run, range(2)))


class StreamingBlob(BlobBackend):
    """BlobBackend with the streaming part of the contract (skeleton.pose.base.StreamingBackend),
    counting the batches that go through it."""

    def __init__(self) -> None:
        super().__init__()
        self.streamed = {"detect": 0, "estimate": 0}

    def detect_stream(self, batches):
        for batch in batches:
            self.streamed["detect"] += 1
            yield self.detect(batch)

    def estimate_stream(self, requests):
        for frames, boxes in requests:
            self.streamed["estimate"] += 1
            yield self.estimate(frames, boxes)


def test_a_streaming_backend_is_fed_through_its_streams(tmp_path):
    from skeleton.pose.base import FusedBackend, StreamingBackend

    assert isinstance(BlobBackend(), PoseBackend)
    assert not isinstance(BlobBackend(), StreamingBackend | FusedBackend)
    video = write_big_video(tmp_path / "S001C001P001R001A001_rgb.avi", 9, lambda t: [30 + t])
    opts = ExtractOptions(batch_size=4, postproc="mmaction2")
    streaming = StreamingBlob()
    assert isinstance(streaming, StreamingBackend)
    a, b = extract_video(BlobBackend(), video, opts), extract_video(streaming, video, opts)
    assert streaming.streamed == {"detect": 3, "estimate": 3}  # 9 frames, batches of 4
    assert all(np.array_equal(a[k], b[k]) for k in ("keypoint", "keypoint_score", "bbox"))
