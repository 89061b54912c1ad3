# 2D poses of every video source: one video index per source (checkpoint), one GPU job per shard
# of videos. Packaging into <ds>_2d.pkl is in rules/datasets.smk.
#
# Outputs live under results/pose/<model_tag>/<source>/: the tag hashes backend, model configs,
# checkpoint hashes and library versions as seen by the pose interpreter (config pose.python),
# so a new model or an upgraded mmpose reruns only 2D work, and older results stay for
# `skeleton pose-drift`. The tag is cached against what it was computed from
# (skeleton.pose.tag_cache): a DAG build starts the pose interpreter only after a change.


checkpoint video_index:
    input:
        files=lambda wc: source_settings(wc.source).files,
        state=lambda wc: video_inputs_state(wc.source),  # see NTU_INPUTS_STATE
    output:
        index="results/{source}/videos.tsv",
        rejects="results/{source}/annotation_rejects.tsv",
        label_map="results/{source}/label_map.txt",
        seen="results/{source}/videos.inputs",  # the files' state it was built from
    log:
        "logs/{source}/video_index.log",
    benchmark:
        "benchmarks/{source}/video_index.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        shard_size=POSE["shard_size"],
        annotations=lambda wc: source_settings(wc.source).annotations,
        videos=lambda wc: source_settings(wc.source).videos,
        options=lambda wc: source_settings(wc.source).options,
        members=lambda wc: members_dir(wc.source),
    script:
        "../scripts/video_index.py"


# An empty shard (every video rejected) is a result like any other: its rejects go to the
# dataset's report. A failed job keeps its work folder, so the retry resumes. The shard's
# videos come from its members file (skeleton.core.members), rewritten by the index and at each
# start only when a video is added, replaced, touched or moved: the one input that says when
# the shard must rerun, under every --rerun-triggers setting.
rule pose_shard:
    input:
        members=pose_shard_members,
        boxes=pose_shard_boxes,
    output:
        pkl=f"{POSE_DIR}/{{source}}/shard_{{shard}}.pkl",
        rejects=f"{POSE_DIR}/{{source}}/shard_{{shard}}.rejects.tsv",
    log:
        f"logs/pose/{POSE_TAG}/{{source}}/shard_{{shard}}.log",
    benchmark:
        f"benchmarks/pose/{POSE_TAG}/{{source}}/shard_{{shard}}.tsv"
    conda:
        "../envs/pose.yaml"
    resources:
        gpu=1 if pose_device_kind() == "cuda" else 0,
        mem_mb=lambda wc, attempt: POSE_MB * attempt,
        runtime=lambda wc, attempt: attempt
        * (10 + POSE["shard_size"] * POSE_SECONDS_PER_VIDEO[pose_device_kind()] // 60),
    params:
        python=POSE_PYTHON,
        options=pose_options,
        # finished videos are kept here, so a killed or preempted job resumes
        work=f"{POSE_DIR}/{{source}}/shard_{{shard}}.work",
    shell:
        "{params.python:q} -m skeleton pose --members {input.members:q} {params.options:q} "
        "--out {output.pkl:q} --rejects {output.rejects:q} --work-dir {params.work:q} "
        "--allow-empty > {log:q} 2>&1 && rm -rf {params.work:q}"
