"""shiftnas: find, prove and ship efficient, shift-robust convolutional networks for a device."""

from shiftnas.errors import ShiftnasError

__version__ = "0.1.0"
__all__ = ["ShiftnasError", "__version__"]
