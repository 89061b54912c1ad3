# Released pre-processed pickles (PYSKL / MMAction2), FineGYM ground-truth boxes and the default
# pose checkpoints: downloaded with resume and retries, sha256-checked where a digest is known
# (OpenMMLab checkpoint names carry one), then safe-loaded and validated.
# URLs: config/releases.yaml, overridable per entry with a `releases:` / `checkpoints:` section.

import re
from pathlib import Path

from skeleton.release.releases import fetch_params, load_releases, raw_downloads

RELEASES = load_releases(
    workflow.source_path("../config/releases.yaml"), config["releases"]
)
CHECKPOINTS = load_releases(
    workflow.source_path("../config/releases.yaml"),
    config["checkpoints"],
    section="checkpoints",
)
DOWNLOAD = config["download"]
OFFLINE = DOWNLOAD["offline"]
# one fetch's deadline (all retries) and size cap (skeleton.core.fetch)
FETCH_LIMITS = {
    "deadline_s": 3600.0 * DOWNLOAD["deadline_h"],
    "max_bytes": int(DOWNLOAD["max_gb"] * (1 << 30)),
}
RELEASED_PICKLES = [
    "ntu60_2d",
    "ntu60_3d",
    "ntu120_2d",
    "ntu120_3d",
    "gym_2d",
    "ucf101_2d",
    "hmdb51_2d",
    "diving48_2d",
    "k400_2d",
]


# Downloads run on the submitting host: cluster compute nodes often have no internet access.
localrules:
    fetch_release,
    fetch_checkpoint,
    fetch_raw,


wildcard_constraints:
    release="|".join(RELEASES),
    checkpoint="|".join(CHECKPOINTS),


rule fetch_release:
    output:
        "data/released/{release}.pkl",
    log:
        "logs/download/{release}.log",
    benchmark:
        "benchmarks/download/{release}.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        **fetch_params(RELEASES, OFFLINE),
        limits=FETCH_LIMITS,
    script:
        "../scripts/fetch_release.py"


rule check_release:
    input:
        "data/released/{release}.pkl",
    output:
        "data/released/{release}.check.txt",
    log:
        "logs/download/{release}.check.log",
    benchmark:
        "benchmarks/download/{release}.check.tsv"
    conda:
        "../envs/parse.yaml"
    resources:
        # the whole pickle is loaded: about 1.5x its size
        mem_mb=lambda wc, input: 500 + int(1.5 * input.size_mb),
    params:
        kind=lambda wc: RELEASES[wc.release].kind,
        num_classes=lambda wc: RELEASES[wc.release].num_classes,
    script:
        "../scripts/check_release.py"


rule fetch_checkpoint:
    output:
        "data/checkpoints/{checkpoint}.pth",
    log:
        "logs/download/{checkpoint}.log",
    benchmark:
        "benchmarks/download/{checkpoint}.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        **fetch_params(CHECKPOINTS, OFFLINE),
        limits=FETCH_LIMITS,
    script:
        "../scripts/fetch_release.py"


rule fetch_ntu60_2d:
    input:
        "data/released/ntu60_2d.check.txt",


rule fetch_ntu60_3d:
    input:
        "data/released/ntu60_3d.check.txt",


rule fetch_ntu120_2d:
    input:
        "data/released/ntu120_2d.check.txt",


rule fetch_ntu120_3d:
    input:
        "data/released/ntu120_3d.check.txt",


rule fetch_gym_2d:
    input:
        "data/released/gym_2d.check.txt",
        "data/released/gym_gt_bboxes.check.txt",


rule fetch_ucf101_2d:
    input:
        "data/released/ucf101_2d.check.txt",


rule fetch_hmdb51_2d:
    input:
        "data/released/hmdb51_2d.check.txt",


rule fetch_diving48_2d:
    input:
        "data/released/diving48_2d.check.txt",


rule fetch_k400_2d:
    input:
        "data/released/k400_2d.check.txt",


rule fetch_released:
    input:
        expand("data/released/{release}.check.txt", release=RELEASED_PICKLES),


rule fetch_pose_checkpoints:
    input:
        expand("data/checkpoints/{checkpoint}.pth", checkpoint=CHECKPOINTS),


# Raw archives given as URLs in `ntu.skeletons` (the official NTU archives need a login, so a
# local path is the normal case): downloaded to data/raw/ntu/<file name>; the NTU rules read
# `skeleton.release.releases.local_inputs(config["ntu"]["skeletons"])`.
RAW_DOWNLOADS = raw_downloads(config["ntu"]["skeletons"])


rule fetch_raw:
    output:
        "data/raw/{dataset}/{file}",
    log:
        "logs/download/raw_{dataset}_{file}.log",
    benchmark:
        "benchmarks/download/raw_{dataset}_{file}.tsv"
    wildcard_constraints:
        dataset="ntu",
        file="|".join(re.escape(Path(p).name) for p in RAW_DOWNLOADS) or "(?!)",
    conda:
        "../envs/parse.yaml"
    params:
        name=lambda wc: wc.file,
        url=lambda wc: RAW_DOWNLOADS[f"data/raw/{wc.dataset}/{wc.file}"],
        sha256="",
        sha256_prefix="",
        offline=OFFLINE,
        limits=FETCH_LIMITS,
    script:
        "../scripts/fetch_release.py"
