"""Exporting networks to ONNX (and TensorRT engines) with parity checks, and the model card."""

import lazy_loader

# Submodules load on first use: importing the package (as loading a config does for its
# settings) stays light and does not import torch.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "card": ["make_card"],
        "package": ["export_network"],
        "tensorrt": ["export_engines", "tensorrt_unavailable"],
    },
)
