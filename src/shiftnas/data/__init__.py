"""Datasets as in-memory uint8 tensors, batched augmentation and shifts."""

from shiftnas.data.augment import augment, cutout, random_crop, random_flip
from shiftnas.data.batches import epoch_order, iterate_batches, normalize, num_batches
from shiftnas.data.cifar10 import load_cifar10
from shiftnas.data.dataset import DataSplits, ImageData, channel_stats, split_train_val
from shiftnas.data.imagefolder import load_imagefolder
from shiftnas.data.loading import load_data
from shiftnas.data.shapes import SHAPE_CLASSES, make_shapes
from shiftnas.data.shift import random_shifts, shift_batch

__all__ = [
    "SHAPE_CLASSES",
    "DataSplits",
    "ImageData",
    "augment",
    "channel_stats",
    "cutout",
    "epoch_order",
    "iterate_batches",
    "load_cifar10",
    "load_data",
    "load_imagefolder",
    "make_shapes",
    "normalize",
    "num_batches",
    "random_crop",
    "random_flip",
    "random_shifts",
    "shift_batch",
    "split_train_val",
]
