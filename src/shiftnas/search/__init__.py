"""Search spaces, architectures, the supernet, evaluators and NSGA-II."""

from shiftnas.search import spaces as _spaces  # noqa: F401  (registers the spaces)
from shiftnas.search.arch import Arch
from shiftnas.search.space import LayerSpec, SearchSpace, get_space, list_spaces, register_space

__all__ = ["Arch", "LayerSpec", "SearchSpace", "get_space", "list_spaces", "register_space"]
