# A busy loop in avg_pool_backward_naive: that call times out, the child is killed.
def avg_pool_backward_naive(dout, cache):
    n = 0
    while True:
        n += 1
