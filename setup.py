"""Build hook for the optional C reader; everything else lives in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        # optional: without a compiler the pure-Python reader is used (slower, same results)
        Extension(
            "skeleton.ntu._skelparse",
            ["skeleton/ntu/_skelparse.c"],
            optional=True,
            # no FMA contraction: the denoising kernels round as numpy does
            extra_compile_args=["-O2", "-ffp-contract=off"],
        ),
    ]
)
