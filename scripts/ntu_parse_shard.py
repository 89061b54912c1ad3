# Snakemake glue for rule ntu_parse_shard.
from skeleton.logs import log_to
from skeleton.ntu3d import run_shard

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    run_shard(
        sm.input[0], int(sm.wildcards.shard), sm.params.denoise, sm.output.pkl,
        sm.params.max_raw_bytes,
    )  # fmt: skip
