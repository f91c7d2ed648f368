"""Search spaces; importing this package registers every space by name."""

from shiftnas.search.spaces.blurpool import BlurPool, triangle_kernel
from shiftnas.search.spaces.darts import DartsNetwork, DartsSettings, DartsSpace
from shiftnas.search.spaces.macro import MacroNetwork, MacroSettings, MacroSpace
from shiftnas.search.spaces.mbv3 import Mbv3Network, Mbv3Settings, Mbv3Space
from shiftnas.search.spaces.mbv3_blocks import CANDIDATES, CONV1X1, Candidate
from shiftnas.search.spaces.nb201 import Nb201Network, Nb201Settings, Nb201Space

__all__ = [
    "CANDIDATES",
    "CONV1X1",
    "BlurPool",
    "Candidate",
    "DartsNetwork",
    "DartsSettings",
    "DartsSpace",
    "MacroNetwork",
    "MacroSettings",
    "MacroSpace",
    "Mbv3Network",
    "Mbv3Settings",
    "Mbv3Space",
    "Nb201Network",
    "Nb201Settings",
    "Nb201Space",
    "triangle_kernel",
]
