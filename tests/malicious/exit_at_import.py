# sys.exit(0) while the module is imported: every test loses its points (nothing can be called).
import sys

sys.exit(0)
