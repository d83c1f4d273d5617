# time.sleep of a day in max_pool_backward_naive: that call times out.
def max_pool_backward_naive(dout, cache):
    import time

    time.sleep(86400)
