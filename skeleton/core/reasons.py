"""Every reason a sample or a file is rejected: the `reason` column of the rejects reports.

One vocabulary for the whole package (index statuses other than "ok" are reasons too): a code is
written here once, named by what went wrong, and used by name. tests/test_rejects_vocabulary.py
checks that no code is written as a string anywhere else.
"""

from __future__ import annotations

# ---- raw input files (skeleton.core.files: scans and reads of folders, files, zip members)
NOT_A_FILE = "not_a_file"  # a folder, FIFO, device, socket or dangling link
BAD_PATH = "bad_path"  # a name the tables cannot carry (control, non-UTF-8 bytes)
DUPLICATE_MEMBER = "duplicate_member"  # one archive holds the name twice
# a member whose local header or data overlaps another member's (or the central directory):
# members sharing one compressed stream are the zip bomb that inflates N times from one copy
OVERLAPPING_MEMBER = "overlapping_member"
ENCRYPTED = "encrypted"
TOO_LARGE = "too_large"  # over ntu.max_raw_mb, uncompressed
# a file or member that cannot be read (bad CRC-32, I/O error), an archive that cannot be
# opened (cut short, damaged directory), a folder that cannot be listed (permission denied)
UNREADABLE = "unreadable"

# ---- NTU skeletons (skeleton.ntu: index, reader, denoisers)
MISSING_LISTED = "missing_listed"  # on the official missing-skeleton list
BAD_NAME = "bad_name"  # not a sample name of its dataset (or not one plain file name)
DUPLICATE_CONFLICT = "duplicate_conflict"  # same sample, different well-formed content
# a copy of a sample that is malformed or unreadable while another copy is used (or beside a
# conflict)
DUPLICATE_MALFORMED = "duplicate_malformed"
MALFORMED = "malformed"  # not the .skeleton format (file:line says where)
NO_SKELETON = "no_skeleton"  # the file holds no body at all
NO_LONG_TRACK = "no_long_track"  # pyskl: several bodies, none tracked for more than 11 frames
SPREAD_NOISE = "spread_noise"  # pyskl: spread denoising rejected every body
ALL_ZERO = "all_zero"  # every joint of every kept body is zero
OUT_OF_RANGE = "out_of_range"  # a coordinate float16 cannot hold
TOO_MANY_FRAMES = "too_many_frames"  # energy: a header's frame count out of proportion

# ---- the datasets' definitions (left out, not failures: strict mode does not count them)
NOT_IN_DATASET = "not_in_dataset"  # an NTU120 sample in an ntu60 build
IN_NO_SPLIT = "in_no_split"  # an HMDB51 video in none of the official splits
NOT_LISTED = "not_listed"  # a video under a dataset's video folders that no list names

# ---- official annotation files and video indexes (skeleton.datasets)
BAD_LINE = "bad_line"  # a line of an official list or a custom list that cannot be used
BAD_ENTRY = "bad_entry"  # an entry of an official JSON file that cannot be used
BAD_SPLIT = "bad_split"  # a custom list's split name a pickle cannot carry
UNKNOWN_LABEL = "unknown_label"  # a class the label map does not have
LABEL_CONFLICT = "label_conflict"  # one sample listed with two labels
NO_GT_BOXES = "no_gt_boxes"  # FineGYM: an element without ground-truth boxes
IN_ARCHIVE = "in_archive"  # an NTU video inside a zip (videos are decoded from files)
DUPLICATE = "duplicate"  # a second video of one sample (NTU; a custom list's name twice)
MISSING_VIDEO = "missing_video"  # no video of the sample under the video folders
NOT_IN_SPLITS = "not_in_splits"  # NTU 2D: a video whose sample is in no 3D split
NO_VIDEO = "no_video"  # NTU 2D: a 3D split sample without a video

# ---- videos (skeleton.pose.video)
NOT_A_VIDEO = "not_a_video"
EMPTY_VIDEO = "empty_video"
UNDECODABLE_VIDEO = "undecodable_video"
NO_FRAMES = "no_frames"
TRUNCATED_VIDEO = "truncated_video"
INCONSISTENT_FRAMES = "inconsistent_frames"

# ---- 2D poses (skeleton.pose)
NO_PERSON = "no_person"  # no person detected in any frame
NO_TRACKLET = "no_tracklet"  # MMAction2's box procedure keeps no tracklet
NO_BOXES = "no_boxes"  # ground-truth boxes asked for, none for this video
MISALIGNED = "misaligned"  # a backend returned results for other frames than it was given
DUPLICATE_SAMPLE = "duplicate_sample"  # two videos of a pose shard with one name
POSE_FAILED = "pose_failed"  # anything else the pose step raised on one video

# ---- pictures
RENDER_FAILED = "render_failed"

# ---- released pickles converted (skeleton.release.convert)
BAD_LABEL = "bad_label"
NON_FINITE = "non_finite"

# Reasons the dataset's definition leaves out (skeleton.core.rejects.failures skips them).
LEFT_OUT = frozenset({NOT_IN_DATASET, IN_NO_SPLIT, NOT_LISTED})
