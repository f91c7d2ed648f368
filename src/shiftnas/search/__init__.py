"""Search spaces and their candidate ops, architectures, the supernet, performance estimators
(`evaluators/`) and NSGA-II (`nsga/`)."""

import lazy_loader

from shiftnas.arch import Arch

# Submodules load on first use: importing the package (as loading a config does for its
# settings) stays light and does not import torch.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "space": ["LayerSpec", "SearchSpace", "get_space", "list_spaces", "register_space"],
    },
)
__all__ = [*__all__, "Arch"]
