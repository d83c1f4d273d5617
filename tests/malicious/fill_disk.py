# At import: write files of 4 MB (under the per-file cap) into /tmp and the working folder,
# at most 80 MB in all, named cs231n-fill-*, and leave them behind; print how much was written.
import os

_written = 0
for _i in range(20):
    _where = "/tmp" if _i % 2 else "."
    try:
        with open(os.path.join(_where, f"cs231n-fill-{os.getpid()}-{_i}"), "wb") as _f:
            _f.write(b"\0" * (4 << 20))
        _written += 4
    except OSError:
        pass
print("FILLED-MB", _written)
