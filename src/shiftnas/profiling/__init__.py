"""MACs/params (fvcore), latency backends, lookup tables, device fingerprints."""

from shiftnas.profiling.backends import LatencyBackend, get_backend, list_backends
from shiftnas.profiling.fingerprint import device_fingerprint, library_versions
from shiftnas.profiling.lut import LatencyTable
from shiftnas.profiling.lut_build import build_table
from shiftnas.profiling.lut_validate import validate_table
from shiftnas.profiling.macs import Cost, count_macs, count_params, network_cost
from shiftnas.profiling.stats import STATISTICS, LatencyResult

__all__ = [
    "STATISTICS",
    "Cost",
    "LatencyBackend",
    "LatencyResult",
    "LatencyTable",
    "build_table",
    "count_macs",
    "count_params",
    "device_fingerprint",
    "get_backend",
    "library_versions",
    "list_backends",
    "network_cost",
    "validate_table",
]
