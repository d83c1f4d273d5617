# Dereference NULL through ctypes in max_pool_backward_naive: the child dies with SIGSEGV.
def max_pool_backward_naive(dout, cache):
    import ctypes

    return ctypes.string_at(0)
