"""Graded tests of this assignment: pooltools' plugin runs your pooling_layers.py in a separate
process, compares with the expected values stored in pooltools/expected.npz, and prints one line
per test and your score (`Score: X/N`) at the end."""

pytest_plugins = ["pooltools.pytest_plugin", "pooltools.exercises"]
