"""FLOPs/params (fvcore), latency backends, lookup tables, device fingerprints."""

from shiftnas.profiling.flops import Cost, count_macs, count_params, network_cost

__all__ = ["Cost", "count_macs", "count_params", "network_cost"]
