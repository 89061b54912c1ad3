# Config validation, constants and input functions shared by the rules.

import functools
import hashlib
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from skeleton import ntu_shards
from skeleton.configcheck import ConfigError, check_config, config_sources
from skeleton.files import Source, check_inputs
from skeleton.index import read_index, shard_rows, shards_for
from skeleton.releases import local_inputs, raw_downloads
from skeleton.resources import label_map_path

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
except ConfigError as exc:
    sys.exit(str(exc))

NTU = config["ntu"]
NTU_DATASETS = NTU["datasets"]
# URLs in ntu.skeletons are downloaded by rule fetch_raw (rules/download.smk) to data/raw/ntu/
NTU_INPUTS = local_inputs(NTU["skeletons"])
DENOISE = NTU["denoise"]
NTU_INDEX = "results/ntu/index.tsv"
NTU_SHARD = f"results/ntu/3d_{DENOISE}/shard_{{shard}}.pkl"
NTU_SHARD_DIGEST = (
    f"results/ntu/3d_{DENOISE}/shard_{{shard}}.json"  # skeleton.ntu_shards
)
MAX_RAW_BYTES = int(NTU.get("max_raw_mb", 32) * (1 << 20))

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
    check_inputs(NTU.get("videos", []), "ntu.videos")
except ValueError as exc:
    raise WorkflowError(str(exc))

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
        if NTU.get("videos")
        else []
    )


def inputs_state(paths):
    """Digest of the configured inputs' listing: each folder's (recursive) mtime, each file's
    size and mtime. A params trigger of ntu_index: adding or removing a raw file changes its
    folder's mtime and so reruns the index; touching a file inside does not (shard_state).
    """
    h = hashlib.sha256()
    for path in paths:
        if not os.path.isdir(path):
            h.update(_utf8(f"{path}\t{_file_state(path)}\n"))
            continue
        for root, dirs, _ in os.walk(path):
            dirs.sort()
            h.update(_utf8(f"{root}\t{os.stat(root).st_mtime_ns}\n"))
    return h.hexdigest()


def _utf8(text):
    # file names may hold bytes that are not UTF-8 (surrogate escapes)
    return text.encode("utf-8", "surrogateescape")


@functools.lru_cache(maxsize=4)
def _index_rows(path, mtime):
    return read_index(path)


def index_rows():
    """The sample table written by the ntu_index checkpoint (parsed once per DAG build)."""
    path = checkpoints.ntu_index.get().output[0]
    return _index_rows(path, os.path.getmtime(path))


@functools.cache
def _file_state(path):
    try:
        st = os.stat(path)
    except OSError:  # gone, or a dangling link: the shard job rejects it
        return "-"
    return f"{st.st_size}:{st.st_mtime_ns}"


def shard_state(wildcards):
    """One digest of a shard's members and the size and mtime of their files.

    A params trigger: a touched, changed, added or removed raw file reruns exactly the shards it
    belongs to. The raw files are not listed as inputs: at NTU120 size that is 114,480 inputs,
    whose bookkeeping alone makes a dry run take ~25 s instead of ~10 s.
    """
    h = hashlib.sha256()
    for r in shard_rows(index_rows(), int(wildcards.shard)):
        state = _file_state(Source.from_id(r.source).path)
        h.update(_utf8(f"{r.sample}\t{r.source}\t{state}\n"))
    return h.hexdigest()


def dataset_shards(wildcards):
    return expand(NTU_SHARD, shard=shards_for(index_rows(), wildcards.ds))


def dataset_shard_digests(wildcards):
    return expand(NTU_SHARD_DIGEST, shard=shards_for(index_rows(), wildcards.ds))


def shard_mem_mb(wildcards, attempt):
    # a retry after an out-of-memory kill asks for more
    return (300 + int(NTU["shard_size"] * PARSE_MB_PER_SAMPLE)) * attempt


def shard_runtime(wildcards, attempt):
    return (5 + int(NTU["shard_size"] * PARSE_SECONDS_PER_SAMPLE / 60)) * attempt
