"""Build the Cython kernels. Metadata lives in pyproject.toml.

The kernels are optional: without a working C compiler the install still
succeeds, says once that the numpy kernels will be used, and ``import
cs231n_pool`` falls back to them. Set CS231N_POOL_REQUIRE_EXTENSION=1 to make a
failed build an error instead (``make`` does). OpenMP is used when the compiler
supports it; otherwise the kernels are built single-threaded.
CS231N_POOL_SKIP_BUILD=1 installs without building them at all: the Makefile's
editable install uses it and then builds the kernels once, in place.
"""

import glob
import os
import shutil
import sys
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

BUILD_ERRORS = (CCompilerError, ExecError, PlatformError, OSError)


def compiles(compiler, source, flags=()):
    """Compile and link `source` (a C program) with `compiler` and `flags`; True when both work."""
    tmpdir = tempfile.mkdtemp()
    try:
        path = os.path.join(tmpdir, "probe.c")
        with open(path, "w") as f:
            f.write(source)
        objects = compiler.compile([path], output_dir=tmpdir, extra_postargs=list(flags))
        compiler.link_executable(objects, "probe", output_dir=tmpdir, extra_postargs=list(flags))
        return True
    except BUILD_ERRORS:
        return False
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def extension_required():
    return os.environ.get("CS231N_POOL_REQUIRE_EXTENSION") == "1"


class BuildOptionalExtensions(build_ext):
    """build_ext that skips the kernels, with one message, when no C compiler works."""

    def build_extensions(self):
        if not compiles(self.compiler, "int main(void){return 0;}\n"):
            self.skip("no working C compiler was found")
            return
        use_openmp = os.environ.get("CS231N_POOL_NO_OPENMP") != "1" and compiles(
            self.compiler, "#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n", ["-fopenmp"]
        )
        if not use_openmp:
            print("cs231n_pool: OpenMP not available; building single-threaded kernels", file=sys.stderr)
        for ext in self.extensions:
            if use_openmp and ext.name in OPENMP_EXTENSIONS:
                ext.extra_compile_args.append("-fopenmp")
                ext.extra_link_args.append("-fopenmp")
        try:
            super().build_extensions()
        except BUILD_ERRORS as exc:
            self.skip(f"the kernels did not compile ({exc})")

    def skip(self, reason):
        if extension_required():
            raise PlatformError(f"cs231n_pool: {reason}, and CS231N_POOL_REQUIRE_EXTENSION=1 requires the kernels")
        print(
            f"cs231n_pool: {reason}; installing without the compiled kernels, "
            "so cs231n_pool will use its numpy kernels",
            file=sys.stderr,
        )


OPENMP_EXTENSIONS = {"cs231n_pool._direct", "cs231n_pool._adaptive"}
# Warnings on: our C and Cython code builds warning-free with these.
COMPILE_ARGS = ["-O3", "-Wall", "-Wextra"]
MACROS = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]


def extension(name):
    return Extension(
        f"cs231n_pool.{name}",
        [f"cs231n_pool/{name}.pyx"],
        depends=sorted(glob.glob(f"cs231n_pool/{name}_*.h")),  # its C headers: rebuilt on change, shipped in the sdist
        include_dirs=[np.get_include()],
        define_macros=MACROS,
        extra_compile_args=list(COMPILE_ARGS),
        extra_link_args=[],
    )


KERNEL_MODULES = [name for name in ("_im2col", "_direct", "_adaptive") if os.path.exists(f"cs231n_pool/{name}.pyx")]


def ext_modules():
    if os.environ.get("CS231N_POOL_SKIP_BUILD") == "1":
        return []
    return cythonize(
        [extension(name) for name in KERNEL_MODULES],
        compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False, "cdivision": True},
        quiet=True,
    )


setup(
    ext_modules=ext_modules(),
    cmdclass={"build_ext": BuildOptionalExtensions},
)
