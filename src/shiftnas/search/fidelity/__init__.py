"""Rank fidelity of estimates against measured accuracy: the metrics, and the truth files the
product reads (CSV `arch,accuracy`, the NAS-Bench-201 sample, NAS-Bench-Macro's JSON)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "metrics": ["RankAgreement", "rank_agreement", "top_precision"],
        "truth": ["Truth", "load_truth", "truth_space"],
    },
)
