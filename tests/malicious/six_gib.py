# Touch 6 GiB in avg_pool_backward_naive: MemoryError (or a kill) under RLIMIT_AS.
def avg_pool_backward_naive(dout, cache):
    import numpy as np

    big = np.ones(6 * 2**30 // 8)
    return big[: dout.size].reshape(dout.shape)
