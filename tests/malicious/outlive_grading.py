# In max_pool_backward_naive: detach a process that forks and exits in a loop (each generation
# lives a moment), named cs231n-outlive,; it gives up by itself after 20 s, to stay bounded.
import ctypes
import os
import time

_solution_max_pool_backward_naive = max_pool_backward_naive  # noqa: F821


def max_pool_backward_naive(dout, cache):
    if os.fork() == 0:
        os.setsid()
        ctypes.CDLL(None).prctl(15, b"cs231n-outlive", 0, 0, 0)  # PR_SET_NAME
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                if os.fork() != 0:
                    os._exit(0)
            except OSError:
                time.sleep(0.01)
            time.sleep(0.002)
        os._exit(0)
    return _solution_max_pool_backward_naive(dout, cache)
