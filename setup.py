"""Build the Cython kernels. Metadata lives in pyproject.toml.

OpenMP is used when the compiler supports it; otherwise the kernels are built
single-threaded and the build says so (it never fails for lack of OpenMP).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def compiler_supports_openmp(compiler):
    """Compile and link a tiny OpenMP program with `compiler`; True when both work."""
    tmpdir = tempfile.mkdtemp()
    try:
        src = os.path.join(tmpdir, "omp_probe.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n")
        objects = compiler.compile([src], output_dir=tmpdir, extra_postargs=["-fopenmp"])
        compiler.link_executable(objects, "omp_probe", output_dir=tmpdir, extra_postargs=["-fopenmp"])
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


class BuildExtWithOptionalOpenMP(build_ext):
    def build_extensions(self):
        use_openmp = os.environ.get("CS231N_POOL_NO_OPENMP") != "1" and compiler_supports_openmp(self.compiler)
        if not use_openmp:
            print("cs231n_pool: OpenMP not available; building single-threaded kernels", file=sys.stderr)
        for ext in self.extensions:
            if use_openmp and ext.name in OPENMP_EXTENSIONS:
                ext.extra_compile_args.append("-fopenmp")
                ext.extra_link_args.append("-fopenmp")
        super().build_extensions()


OPENMP_EXTENSIONS = {"cs231n_pool._direct"}
# Warnings on: our C and Cython code builds warning-free with these.
COMPILE_ARGS = ["-O3", "-Wall", "-Wextra"]
MACROS = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]


def extension(name):
    return Extension(
        f"cs231n_pool.{name}",
        [f"cs231n_pool/{name}.pyx"],
        depends=[f"cs231n_pool/{name}_kernels.h"] if os.path.exists(f"cs231n_pool/{name}_kernels.h") else [],
        include_dirs=[np.get_include()],
        define_macros=MACROS,
        extra_compile_args=list(COMPILE_ARGS),
        extra_link_args=[],
    )


KERNEL_MODULES = [name for name in ("_im2col", "_direct") if os.path.exists(f"cs231n_pool/{name}.pyx")]

setup(
    ext_modules=cythonize(
        [extension(name) for name in KERNEL_MODULES],
        compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False, "cdivision": True},
    ),
    cmdclass={"build_ext": BuildExtWithOptionalOpenMP},
)
