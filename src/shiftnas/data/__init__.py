"""Datasets as in-memory uint8 tensors (shapes, digits, CIFAR-10, image folders), their checks
and `data:` settings, batched augmentation and shifts."""

import lazy_loader

# Submodules load on first use: importing the package (as loading a config does for its
# settings) stays light and does not import torch.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "augment": ["augment", "cutout", "random_crop", "random_flip"],
        "batches": ["epoch_order", "iterate_batches", "normalize", "num_batches"],
        "cifar10": ["load_cifar10"],
        "dataset": ["DataSplits", "ImageData", "channel_stats", "split_train_val"],
        "imagefolder": ["load_imagefolder"],
        "loading": ["load_data"],
        "shapes": ["SHAPE_CLASSES", "make_shapes"],
        "shift": ["random_shifts", "shift_batch"],
    },
)
