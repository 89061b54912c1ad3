# Snakemake glue for rule ntu_parse_shard.
from skeleton.core.blas import single_threaded_blas

single_threaded_blas()  # before numpy is imported

from skeleton.core.logs import log_to  # noqa: E402
from skeleton.ntu.parse import ntu_parse_shard  # noqa: E402

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    ntu_parse_shard(sm.input.members, sm.params.denoise, sm.output.pkl, sm.params.max_raw_bytes)
