# avg_pool_backward_naive starts a child process and a double-forked daemon (new session)
# that would keep running, then answers correctly: the test passes, the processes are killed.
import os
import subprocess
import sys

MARK = "cs231n-pool-outlive-marker"
_solution_avg_pool_backward_naive = avg_pool_backward_naive


def avg_pool_backward_naive(dout, cache):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", MARK])
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", MARK])
        os._exit(0)
    return _solution_avg_pool_backward_naive(dout, cache)
