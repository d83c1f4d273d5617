"""Build recipe of the cs231n_pool kit bundled with an autograder.

Every Cython kernel is an optional extension: when it does not compile (no C compiler, no
Python headers) the build goes on without it, and cs231n_pool runs on its numpy kernels.
Grading calls are small and single-threaded, so no OpenMP is asked for.
"""

import glob
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup


def kernel(path):
    return Extension(
        "cs231n_pool." + os.path.splitext(os.path.basename(path))[0],
        [path],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    )


extensions = cythonize(
    [kernel(path) for path in sorted(glob.glob("cs231n_pool/_*.pyx"))],
    compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False, "cdivision": True},
)
for ext in extensions:
    ext.optional = True  # set after cythonize, which does not carry the flag over
setup(ext_modules=extensions)
