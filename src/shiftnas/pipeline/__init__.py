"""The staged pipeline: the whole config, the run folder, the stages and what they share
(context, objectives by name, selection), checks before any work, config changes, damaged
outputs, resume and the status summary."""

import lazy_loader

# Submodules load on first use: importing the package (as loading a config does for its
# settings) stays light and does not import torch.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "context": ["RunContext", "open_run"],
        "rundir": ["RunDir"],
        "runner": ["run_pipeline"],
        "select": ["knee_index", "select_from_front"],
        "stages": ["STAGES"],
    },
)
