# Compute the answers with the library's own implementation: flagged by the static check,
# every test fails with a ForbiddenImport explanation.
from cs231n_pool.naive import max_pool_forward_naive  # noqa: F811
