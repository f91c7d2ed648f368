"""Search spaces; importing this package registers every space by name."""

import lazy_loader

# Submodules load on first use: importing the package (as loading a config does for its
# settings) stays light and does not import torch.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "blurpool": ["BlurPool", "triangle_kernel"],
        "darts": ["DartsNetwork", "DartsSettings", "DartsSpace"],
        "macro": ["MacroNetwork", "MacroSettings", "MacroSpace"],
        "mbv3": ["Mbv3Network", "Mbv3Settings", "Mbv3Space"],
        "mbv3_blocks": ["CANDIDATES", "CONV1X1", "Candidate"],
        "nbmacro": ["NbMacroNetwork", "NbMacroSettings", "NbMacroSpace"],
        "nb201": ["Nb201Network", "Nb201Settings", "Nb201Space"],
    },
)
