# max_pool_forward_naive returns an ndarray subclass holding wrong values that claims to
# equal everything; avg_pool_forward_naive returns an object array of always-equal
# objects. The grader receives a plain copy of the first (wrong values: fails) and only a
# handle for the second (not an array: fails). The backward tests still pass.
import numpy as np

_solution_max_pool_forward_naive = max_pool_forward_naive
_solution_avg_pool_forward_naive = avg_pool_forward_naive


class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.broadcast(self, other).shape, dtype=bool)

    __ne__ = lambda self, other: np.zeros(np.broadcast(self, other).shape, dtype=bool)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.view(np.ndarray) * 0 + 1, dtype=dtype)


class Equal:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 0.0


def max_pool_forward_naive(x, pool_param):
    out, cache = _solution_max_pool_forward_naive(x, pool_param)
    return (out + 1).view(Liar), cache


def avg_pool_forward_naive(x, pool_param):
    out, cache = _solution_avg_pool_forward_naive(x, pool_param)
    fake = np.empty(out.shape, dtype=object)
    fake[...] = Equal()
    return fake, cache
