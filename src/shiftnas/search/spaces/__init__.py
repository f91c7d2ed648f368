"""Search spaces; importing this package registers every space by name."""

from shiftnas.search.spaces.blurpool import BlurPool, triangle_kernel
from shiftnas.search.spaces.mbv3 import Mbv3Network, Mbv3Settings, Mbv3Space
from shiftnas.search.spaces.mbv3_blocks import CANDIDATES, CONV1X1, Candidate

__all__ = [
    "CANDIDATES",
    "CONV1X1",
    "BlurPool",
    "Candidate",
    "Mbv3Network",
    "Mbv3Settings",
    "Mbv3Space",
    "triangle_kernel",
]
