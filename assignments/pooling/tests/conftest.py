"""Graded tests of the pooling assignment: the cs231n_pool grading plugin provides the
`submission` and `rng` fixtures, the `points` marker and the final `Score: X/Y` line."""
pytest_plugins = ["cs231n_pool.grading.pytest_plugin"]
