# The workflow's one shared file: the start, constants and every input function of the rules
# (one .smk per stage in rules/, each included by the Snakefile after this one). The work done
# while the workflow is parsed (config check, inputs, outputs, damaged shards, members files,
# model tag) is one library call, skeleton.workflow.start; the input functions only read the
# config, its result and the index tables. Sections: the start, NTU 3D (rules/ntu_raw, splits,
# package, download), 2D poses and video sources (rules/pose, datasets), pictures
# (rules/visualize, report). Every video source (NTU
# RGB+D, UCF101, HMDB51, Diving48, FineGYM, Kinetics-400, custom lists) has its reader in
# skeleton/datasets/ and its config section named after it.

import functools
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from skeleton.datasets import (
    SOURCES,
    ConfigError,
    datasets_of,
    label_map_path,
    source_of,
    video_source,
)
from skeleton.datasets import index as video_index
from skeleton.datasets import sources as video_sources
from skeleton.ntu import index as ntu_index
from skeleton.workflow.configcheck import config_sources
from skeleton.workflow.start import (
    DEMO_RAW,
    NTU_INDEX,
    NTU_INPUTS_STATE,
    NTU_SEEN,
    InputError,
    StartError,
    cached_rows,
    members_dir,
    ntu_shard_dir,
    pose_shards_of,
    start,
    video_index_path,
    video_inputs_state,
)

# ---- the start: config, inputs, outputs, damaged shards, members files, model tag ------------

# This workflow's folder (the repository), for the files it ships (label maps, model configs,
# the default pose interpreter). Not workflow.basedir: when another workflow uses this one as a
# module, that is the importing workflow's folder.
WORKFLOW_DIR = os.path.dirname(os.path.abspath(str(workflow.current_basedir)))
try:  # skeleton.workflow.start: the work done while the workflow is parsed, in one call
    START = start(
        config,
        validate,
        config_sources(
            workflow.configfiles,
            workflow.config_settings.configfiles,
            workflow.config_settings.config,
            workflow.basedir,
        ),
        WORKFLOW_DIR,
        workflow.is_main_process,
    )
except StartError as exc:  # a config error, an output folder that cannot be written
    sys.exit(str(exc))
except InputError as exc:  # an input that cannot be used, the pose interpreter
    raise WorkflowError(str(exc))

# ---- NTU 3D (rules/ntu_raw.smk, splits.smk, package.smk, download.smk) ---------------------

# every key is set: the schema's defaults were filled in
NTU = config["ntu"]
NTU_DATASETS = NTU["datasets"]
# URLs in ntu.skeletons are downloaded by rule fetch_raw (rules/download.smk) to data/raw/ntu/
NTU_INPUTS = START.ntu_inputs
DENOISE = NTU["denoise"]
NTU_SHARD = f"{ntu_shard_dir(DENOISE)}/shard_{{shard}}.pkl"
NTU_SHARD_DIGEST = (
    f"{ntu_shard_dir(DENOISE)}/shard_{{shard}}.json"  # skeleton.ntu.shards
)
NTU_MEMBERS = members_dir("ntu")
NTU_SHARD_MEMBERS = f"{NTU_MEMBERS}/{ntu_index.MEMBERS_PREFIX}_{{shard}}.tsv"
MAX_RAW_BYTES = START.max_raw_bytes


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
    return cached_rows(ntu_index.read_index, checkpoints.ntu_index.get().output[0])


def dataset_shards(wildcards):
    return expand(NTU_SHARD, shard=ntu_index.shards_for(index_rows(), wildcards.ds))


def dataset_shard_digests(wildcards):
    return expand(
        NTU_SHARD_DIGEST, shard=ntu_index.shards_for(index_rows(), wildcards.ds)
    )


def shard_mem_mb(wildcards, attempt):
    # a retry after an out-of-memory kill asks for more
    return (300 + int(NTU["shard_size"] * PARSE_MB_PER_SAMPLE)) * attempt


def shard_runtime(wildcards, attempt):
    return (5 + int(NTU["shard_size"] * PARSE_SECONDS_PER_SAMPLE / 60)) * attempt


# ---- 2D poses and video sources (rules/pose.smk, rules/datasets.smk) -------------------------

POSE = config["pose"]
POSE_PYTHON = START.pose_python
POSE_MODELS = START.pose_models
CONFIGURED_SOURCES = START.configured_sources
NTU_VIDEO_INDEX = video_index_path("ntu")
# Rough costs of one NTU video (~100 frames of 1080p), for cluster job sizes.
POSE_SECONDS_PER_VIDEO = {"cuda": 10, "cpu": 120}
POSE_MB = 8000  # models + a batch of decoded 1080p frames
POSE_TAG = START.pose_tag
POSE_DIR = f"results/pose/{POSE_TAG}"


wildcard_constraints:
    source="|".join(SOURCES),


def source_settings(source):
    try:
        return video_sources.settings(source, config)
    except ConfigError as exc:
        raise WorkflowError(str(exc))


def video_members(source, shard):
    """The members file of pose shard `shard` of `source`."""
    return f"{members_dir(source)}/{video_index.MEMBERS_PREFIX}_{shard}.tsv"


def pose_shard_members(wildcards):
    return video_members(wildcards.source, wildcards.shard)


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
        path = checkpoints.video_index.get(source=source).output.index
        k = pose_shards_of(dataset, path)
        return expand(pattern, source=source, dataset=dataset, k=k)

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
