# Import torch and the library under computed names inside avg_pool_backward_naive: the
# child's import hook refuses them, so only that test fails.
import importlib


def avg_pool_backward_naive(dout, cache):
    torch = importlib.import_module("tor" + "ch")
    naive = importlib.import_module("cs231n" + "_pool.naive")
    return naive.avg_pool_backward_naive(dout, cache)
