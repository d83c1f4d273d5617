"""Graded tests of the pooling assignment, as the grader runs them.

The cs231n_pool grading plugin provides the `submission` and `rng` fixtures, the `points`
marker and the final `Score: X/Y` line; expected values are computed by the library's
references at grade time (cs231n_pool.grading.checks.reference), and a failed check names its
likely cause when it matches a known misconception (cs231n_pool.grading.diagnosis). The
released bundle replaces this file with one that loads pooltools' own plugin and reads the
expected values stored in pooltools/expected.npz instead, without any diagnosis.
"""

from pooltools import checks, expected

from cs231n_pool.grading.checks import reference
from cs231n_pool.grading.diagnosis import diagnose

expected.use_source(reference)
checks.use_diagnosis(diagnose)
pytest_plugins = ["cs231n_pool.grading.pytest_plugin", "pooltools.exercises"]
