"""MLflow tracking, the model registry and promotion.

Named `tracking` rather than `mlflow` so that `import mlflow` inside it always means the library.
MLflow itself is imported inside the functions that use it: `import shiftnas` stays light.
"""

import lazy_loader

# Submodules load on first use: importing the package (as loading a config does for its
# settings) stays light and does not import torch.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "base": ["NullTracker", "Tracker", "open_tracker"],
        "mlflow_tracker": ["MlflowTracker"],
        "params": ["flatten_params"],
        "promote": ["PromotionResult", "promote"],
        "registry": ["register_model"],
        "settings": ["TrackingConfig"],
        "store": ["resolve_tracking_uri", "ui_command"],
    },
)
