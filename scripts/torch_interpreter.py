"""Run the calling script under the first Python that imports torchvision.

DESIGN.md's rule: `python3` first, then /usr/bin/python3 (where Debian's python3-torchvision
lives). A script calls ensure_torchvision() before importing torch.
"""
import os
import sys

CANDIDATES = ["/usr/bin/python3"]


def ensure_torchvision():
    try:
        import torchvision  # noqa: F401
        return
    except ImportError:
        pass
    for candidate in CANDIDATES:
        if os.path.realpath(candidate) != os.path.realpath(sys.executable) and os.access(candidate, os.X_OK):
            if os.environ.get("R50_TORCH_REEXEC") != candidate:
                os.environ["R50_TORCH_REEXEC"] = candidate
                os.execv(candidate, [candidate] + sys.argv)
    sys.exit("error: no Python here imports torchvision (tried %s and %s); "
             "install Debian's python3-torchvision (scripts/test.sh does)"
             % (sys.executable, ", ".join(CANDIDATES)))
