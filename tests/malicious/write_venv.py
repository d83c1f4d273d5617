# At import: plant a module inside numpy's package and a .pth file in site-packages, which a
# later grading run would import (the harmless stand-ins of a backdoor); print what worked.
import os

import numpy

_SITE = os.path.dirname(os.path.dirname(os.path.realpath(numpy.__file__)))
for _path in (os.path.join(_SITE, "numpy", "testing", "_cs231n_planted.py"), os.path.join(_SITE, "_cs231n_planted.pth")):
    try:
        with open(_path, "x") as _f:
            _f.write("# planted by a submission\n")
        print("VENV-WRITE-OK", _path)
    except OSError as _exc:
        print("VENV-WRITE-FAILED", type(_exc).__name__)
