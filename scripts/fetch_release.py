# Snakemake glue for rules fetch_release and fetch_checkpoint.
import logging

from skeleton.core.logs import log_to
from skeleton.release.releases import Release, fetch_release

sm = snakemake  # noqa: F821
p = sm.params
with log_to(sm.log[0]):
    logging.getLogger("skeleton.core.fetch").setLevel(logging.INFO)
    release = Release(p.name, p.url, sha256=p.sha256 or None, sha256_prefix=p.sha256_prefix or None)
    fetch_release(release, sm.output[0], offline=p.offline, progress=False, **dict(p.limits))
