# KeyboardInterrupt from max_pool_backward_naive and a home-made BaseException from
# avg_pool_backward_naive: exactly those two tests fail.
class Escape(BaseException):
    pass


def max_pool_backward_naive(dout, cache):
    raise KeyboardInterrupt


def avg_pool_backward_naive(dout, cache):
    raise Escape("stop the grader")
