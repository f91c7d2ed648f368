"""Datasets (image folders, CSV lists, torchvision's by name, shapes, digits) as uint8 tensors,
in memory or in a memory-mapped cache; their checks and `data:` settings, batched augmentation
and shifts."""

import lazy_loader

# Submodules load on first use: importing the package (as loading a config does for its
# settings) stays light and does not import torch.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "augment": ["augment", "cutout", "random_crop", "random_flip", "random_resized_crop"],
        "batches": ["epoch_order", "iterate_batches", "normalize", "num_batches"],
        "dataset": ["DataSplits", "ImageData", "channel_stats", "split_train_val"],
        "decode": ["decode_image", "recipe"],
        "imagefolder": ["load_imagefolder"],
        "loading": ["load_data"],
        "shapes": ["SHAPE_CLASSES", "make_shapes"],
        "shift": ["random_shifts", "shift_batch"],
        "torchvision_data": ["load_cifar10", "load_torchvision"],
    },
)
