# The workflow's one shared file: config validation, constants and every input function of
# the rules (one .smk per stage in rules/, each included by the Snakefile after this one).
# Sections: config, NTU 3D (rules/ntu_raw, splits, package, download), 2D poses and video
# sources (rules/pose, datasets), pictures (rules/visualize, report). Every video source (NTU
# RGB+D, UCF101, HMDB51, Diving48, FineGYM, Kinetics-400, custom lists) has its reader in
# skeleton/datasets/ and its config section named after it.

import functools
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

import skeleton.datasets.index as video_index
from skeleton.datasets.index import MEMBERS_PREFIX as VIDEO_MEMBERS_PREFIX
from skeleton.datasets.index import member_rows as video_member_rows_of
from skeleton.core.files import check_inputs, raw_bytes
from skeleton.core.members import refresh
from skeleton.core.outputs import unwritable_folders
from skeleton.datasets import (
    SOURCES,
    ConfigError,
    dataset_filter,
    datasets_of,
    label_map_path,
    source_of,
    video_source,
)
from skeleton.datasets import sources as video_sources
from skeleton.ntu import shards as ntu_shards
from skeleton.ntu.index import MEMBERS_PREFIX as NTU_MEMBERS_PREFIX
from skeleton.ntu.index import member_rows as ntu_member_rows_of
from skeleton.ntu.index import read_index, shards_for
from skeleton.pose.tag_cache import TagError, cached_tag
from skeleton.release.releases import local_inputs, raw_downloads
from skeleton.workflow.configcheck import ConfigError as ConfigSchemaError
from skeleton.workflow.configcheck import check_config, config_sources

# ---- config -----------------------------------------------------------------------------------

# This workflow's folder (the repository), for the files it ships (label maps, model configs,
# the default pose interpreter). Not workflow.basedir: when another workflow uses this one as a
# module, that is the importing workflow's folder.
WORKFLOW_DIR = os.path.dirname(os.path.abspath(str(workflow.current_basedir)))

CONFIG_SCHEMA = os.path.join(WORKFLOW_DIR, "config/schema/config.schema.yaml")
try:  # a short message naming the bad key, not Snakemake's dump of the whole schema
    check_config(
        config,
        CONFIG_SCHEMA,
        validate,
        config_sources(
            workflow.configfiles,
            workflow.config_settings.configfiles,
            workflow.config_settings.config,
            workflow.basedir,
        ),
        os.path.join(WORKFLOW_DIR, "config/config.yaml"),
    )
except ConfigSchemaError as exc:
    sys.exit(str(exc))

# ---- NTU 3D (rules/ntu_raw.smk, splits.smk, package.smk, download.smk) ---------------------

# every key is set: the schema's defaults were filled in
NTU = config["ntu"]
NTU_DATASETS = NTU["datasets"]
# URLs in ntu.skeletons are downloaded by rule fetch_raw (rules/download.smk) to data/raw/ntu/
NTU_INPUTS = local_inputs(NTU["skeletons"])
DENOISE = NTU["denoise"]
NTU_INDEX = "results/ntu/index.tsv"
NTU_SHARD = f"results/ntu/3d_{DENOISE}/shard_{{shard}}.pkl"
NTU_SHARD_DIGEST = (
    f"results/ntu/3d_{DENOISE}/shard_{{shard}}.json"  # skeleton.ntu.shards
)
# What a parse shard reads, and what makes it rerun (skeleton.core.members): one members file
# per shard, rewritten only when a member is added, replaced, touched or moved.
MEMBERS_DIR = "results/{source}/members"
NTU_MEMBERS = MEMBERS_DIR.format(source="ntu")
NTU_SHARD_MEMBERS = f"{NTU_MEMBERS}/{NTU_MEMBERS_PREFIX}_{{shard}}.tsv"
# The state of the configured inputs (folder modification times, recursively): an input of
# the index, rewritten when it differs from the state the index was built from (NTU_SEEN), i.e.
# when a file was added, removed or renamed anywhere below them (skeleton.core.members.refresh).
NTU_INPUTS_STATE = "results/ntu/inputs.state"
NTU_SEEN = "results/ntu/index.inputs"
MAX_RAW_BYTES = raw_bytes(NTU["max_raw_mb"])

# A shard whose file differs from its digest (cut off, half-written, replaced) is removed
# before the DAG is built, so this run rebuilds it. Only in the main process: cluster jobs
# parse this file too, while other jobs may be writing shards.
if workflow.is_main_process:
    for why in ntu_shards.discard_damaged_in(os.path.dirname(NTU_SHARD)):
        print(f"rebuilding a damaged shard: {why}", file=sys.stderr)


DEMO_RAW = "ntu_raw"  # rule demo_data's output (config/demo.yaml)
# A configured input that does not exist (or cannot be used) stops the DAG build, naming it:
# otherwise the index would keep the old listing and the run would repackage stale data.
try:
    check_inputs(
        [
            p
            for p in NTU_INPUTS
            if p not in raw_downloads(NTU["skeletons"])
            # the demo's raw data is made by a rule of its own (rules/demo.smk)
            and not ("demo" in config and p == DEMO_RAW)
        ],
        "ntu.skeletons",
    )
    check_inputs(NTU["videos"], "ntu.videos")
except ValueError as exc:
    raise WorkflowError(str(exc))

# Output folders that cannot be written stop the run here, in one line, not after the parse.
if workflow.is_main_process and (
    unwritable := unwritable_folders(["results", "logs", "benchmarks"])
):
    sys.exit("; ".join(unwritable))


@functools.lru_cache(maxsize=4)
def _index_rows(path, mtime):
    return read_index(path)


def ntu_raw_inputs(wildcards):
    """The configured raw data; none stops the DAG build before any job, in one message."""
    if not NTU_INPUTS:
        raise WorkflowError(
            "no NTU raw data configured: set ntu.skeletons to your folders, the official "
            "zips or their URLs, e.g. snakemake --cores 2 ntu60 --config "
            'ntu=\'{"skeletons": ["raw"]}\' '
            "(or run `bash .ci/demo` for the bundled demo)"
        )
    return NTU_INPUTS


def ntu_member_rows(index_path):
    return ntu_member_rows_of(_index_rows(index_path, os.path.getmtime(index_path)))


# Main process only (cluster jobs parse this file too): the inputs' state and the members
# files follow the files on disk, so every --rerun-triggers setting sees a changed raw file.
if workflow.is_main_process and NTU_INPUTS:
    for line in refresh(
        NTU_INPUTS_STATE,
        NTU_SEEN,
        NTU_INPUTS,
        NTU_INDEX,
        ntu_member_rows,
        NTU_MEMBERS,
        NTU_MEMBERS_PREFIX,
    ):
        print(line, file=sys.stderr)

# Rough costs measured with bench/parse.py, used to size cluster jobs honestly.
PARSE_MB_PER_SAMPLE = 0.06  # annotation + text held while a shard is parsed
PARSE_SECONDS_PER_SAMPLE = 0.01


wildcard_constraints:
    shard=r"\d+",
    ds="ntu60|ntu120",


def ntu_outputs(datasets):
    return [
        f"results/{ds}/{name}"
        for ds in datasets
        for name in (f"{ds}_3d.pkl", "rejects.tsv", "manifest.json")
    ] + (  # 2D poses when videos are configured (rules/pose.smk, rules/datasets.smk)
        [
            f"results/{ds}/{name}"
            for ds in datasets
            for name in (f"{ds}_2d.pkl", "pose_quality.tsv")
        ]
        if NTU["videos"]
        else []
    )


def index_rows():
    """The sample table written by the ntu_index checkpoint (parsed once per DAG build)."""
    path = checkpoints.ntu_index.get().output[0]
    return _index_rows(path, os.path.getmtime(path))


def dataset_shards(wildcards):
    return expand(NTU_SHARD, shard=shards_for(index_rows(), wildcards.ds))


def dataset_shard_digests(wildcards):
    return expand(NTU_SHARD_DIGEST, shard=shards_for(index_rows(), wildcards.ds))


def shard_mem_mb(wildcards, attempt):
    # a retry after an out-of-memory kill asks for more
    return (300 + int(NTU["shard_size"] * PARSE_MB_PER_SAMPLE)) * attempt


def shard_runtime(wildcards, attempt):
    return (5 + int(NTU["shard_size"] * PARSE_SECONDS_PER_SAMPLE / 60)) * attempt


# ---- 2D poses and video sources (rules/pose.smk, rules/datasets.smk) -------------------------

POSE = config["pose"]


def repo_relative(path):
    """A configured path as given when it exists here, else relative to the workflow's folder."""
    if not path or os.path.isabs(path) or os.path.exists(path) or os.sep not in path:
        return path
    return os.path.join(WORKFLOW_DIR, path)


POSE_PYTHON = repo_relative(POSE["python"])
POSE_MODELS = repo_relative(POSE["models"])
CONFIGURED_SOURCES = [s for s in SOURCES if video_sources.configured(s, config)]
NTU_VIDEO_INDEX = "results/ntu/videos.tsv"
# Rough costs of one NTU video (~100 frames of 1080p), for cluster job sizes.
POSE_SECONDS_PER_VIDEO = {"cuda": 10, "cpu": 120}
POSE_MB = 8000  # models + a batch of decoded 1080p frames


def pose_tag():
    """The model tag, computed by the pose interpreter only when what it hashes has changed."""
    cmd = [POSE_PYTHON, "-m", "skeleton", "pose-tag"]
    cmd += video_sources.pose_tag_arguments(POSE, POSE_MODELS)
    try:
        return cached_tag(cmd)
    except TagError as exc:
        raise WorkflowError(
            f"{exc}\npose.python={POSE_PYTHON!r}: build the pose env with "
            "`skeleton make-env pose` or set pose.python"
        )


POSE_TAG = pose_tag() if CONFIGURED_SOURCES else "none"
POSE_DIR = f"results/pose/{POSE_TAG}"


wildcard_constraints:
    source="|".join(SOURCES),


def source_settings(source):
    try:
        return video_sources.settings(source, config)
    except ConfigError as exc:
        raise WorkflowError(str(exc))


@functools.lru_cache(maxsize=16)
def _video_rows(path, mtime):
    return video_index.read_index(path)


def source_rows(source):
    """The video index of `source` (its checkpoint's table, read once per DAG build)."""
    path = checkpoints.video_index.get(source=source).output.index
    return _video_rows(path, os.path.getmtime(path))


def video_index_path(source):
    return f"results/{source}/videos.tsv"


def video_inputs_state(source):
    """An input of the source's index: its configured files' state (see NTU_INPUTS_STATE)."""
    return f"results/{source}/video_inputs.state"


def video_seen(source):
    return f"results/{source}/videos.inputs"


def video_members(source, shard):
    """The members file of pose shard `shard` of `source`."""
    return f"{MEMBERS_DIR.format(source=source)}/{VIDEO_MEMBERS_PREFIX}_{shard}.tsv"


def pose_shard_members(wildcards):
    return video_members(wildcards.source, wildcards.shard)


def video_member_rows(index_path):
    return video_member_rows_of(_video_rows(index_path, os.path.getmtime(index_path)))


def _configured_files(source):
    try:
        return video_sources.settings(source, config).files
    except ConfigError:  # said when a target needs the source (source_settings)
        return None


if workflow.is_main_process:  # as for NTU's raw files above
    for _source in CONFIGURED_SOURCES:
        if _configured_files(_source) is None:
            continue
        for line in refresh(
            video_inputs_state(_source),
            video_seen(_source),
            _configured_files(_source),
            video_index_path(_source),
            video_member_rows,
            MEMBERS_DIR.format(source=_source),
            VIDEO_MEMBERS_PREFIX,
        ):
            print(f"{_source}: {line}", file=sys.stderr)


def pose_shard_boxes(wildcards):
    boxes = source_settings(wildcards.source).boxes
    return [boxes] if boxes else []


def pose_options(wildcards):
    """`skeleton pose` options of the source's shards: assembled in one place, as a list."""
    boxes = source_settings(wildcards.source).boxes
    return video_sources.pose_arguments(POSE, wildcards.source, boxes, POSE_MODELS)


def dataset_pose_shards(pattern):
    """Input function: `pattern` ({source}, {dataset}, {k}) for each pose shard holding a usable
    video of the dataset (wildcard `dataset` or `ds`)."""

    def inputs(wildcards):
        dataset = getattr(wildcards, "dataset", None) or wildcards.ds
        source = source_of(dataset)
        member = dataset_filter(dataset)
        shards = {
            r.shard for r in source_rows(source) if r.shard >= 0 and member(r.sample)
        }
        return expand(pattern, source=source, dataset=dataset, k=sorted(shards))

    return inputs


def pose_device_kind():
    return "cuda" if POSE["device"].startswith("cuda") else "cpu"


# dataset -> its video source: ntu60 and ntu120 share the NTU video index and pose shards
DATASET_SOURCE = {d: s for s in SOURCES for d in datasets_of(s)}
COMPRESSED = [d for d, s in DATASET_SOURCE.items() if video_source(s).compressed]
DENSE = [d for d in DATASET_SOURCE if d not in COMPRESSED]


def dataset_index(wildcards):
    return video_index_path(source_of(wildcards.dataset))


def dataset_annotation_rejects(wildcards):
    return f"results/{source_of(wildcards.dataset)}/annotation_rejects.tsv"


def dataset_splits(wildcards):
    """NTU's 2D pickles take the splits of the 3D ones (samples with a usable skeleton)."""
    if source_of(wildcards.dataset) == "ntu":
        return [f"results/{wildcards.dataset}/splits.json"]
    return []


# ---- pictures (rules/visualize.smk, rules/report.smk) ----------------------------------------

VIZ = config["visualize"]
VIZ_DIMS = ["3d", "2d"] if NTU["videos"] else ["3d"]


def viz_outputs(datasets):
    return [f"results/{ds}/viz/{dim}" for ds in datasets for dim in VIZ_DIMS]


def viz_video_index(wildcards):
    """Overlays draw on the videos of the video index when ntu.videos is set."""
    return [NTU_VIDEO_INDEX] if NTU["videos"] else []


REPORT_3D = ["splits", "classes", "lengths", "persons", "rejects"]
REPORT_2D = ["splits", "scores", "rejects", "pck", "pck_examples"]


def report_outputs(datasets):
    files = [f"results/{ds}/report/3d_{n}.png" for ds in datasets for n in REPORT_3D]
    if NTU["videos"]:
        files += [
            f"results/{ds}/report/2d_{n}.png" for ds in datasets for n in REPORT_2D
        ]
    return files


def report_png(dim, name, subcategory):
    return report(
        f"results/{{ds}}/report/{dim}_{name}.png",
        caption=f"../report/{dim}_{name}.rst",
        category="{ds}",
        subcategory=subcategory,
    )


def _report_only(argv):
    """`snakemake --report FILE` (not --report-after-run, which runs first): only a report of
    what is already built is wanted. Snakemake gives the Snakefile no other way to know.
    """
    args = argv[1:]
    asked = any(a == "--report" or a.startswith("--report=") for a in args)
    return asked and "--report-after-run" not in args


REPORT_ONLY = workflow.is_main_process and _report_only(sys.argv)


def report_datasets(datasets, default_target=False):
    """The datasets whose figures a target lists. In a report-only run, those whose figures
    all exist (Snakemake stops at the first missing one with a traceback): for the default
    target, one line per dataset left out naming the target that builds it, and one line and
    exit 1 when nothing is built yet."""
    if not REPORT_ONLY:
        return list(datasets)
    return list(_reported(tuple(datasets), default_target))


@functools.cache
def _reported(datasets, default_target):
    built = [ds for ds in datasets if all(map(os.path.exists, report_outputs([ds])))]
    if default_target:
        cores = os.cpu_count() or 1
        if not built:
            sys.exit(
                "report: nothing built to report yet: build a dataset first, e.g. "
                f"`snakemake --cores {cores} {datasets[0] if datasets else 'ntu60'}`, then "
                "run --report again"
            )
        for ds in datasets:
            if ds not in built:
                why = (
                    "its figures are missing"
                    if os.path.exists(f"results/{ds}/{ds}_3d.pkl")
                    else "not built"
                )
                print(
                    f"report: {ds} left out ({why}): `snakemake --cores {cores} {ds}` "
                    "(with this run's --configfile / --config) builds it with its figures",
                    file=sys.stderr,
                )
    return built
