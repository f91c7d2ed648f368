"""Measured rank fidelity of each (space, estimator) pair: generated, do not edit.

Written by `benchmarks/fidelity_table.py` from the committed JSONs each entry names
(`source`, `key`); `tests/search/test_fidelity_table.py` fails if they disagree.
Spearman rho / Kendall tau of -score against trained accuracy (higher = better).
"""

from typing import Any

MEASURED: dict[str, dict[str, dict[str, Any]]] = {
    "mbv3": {},
    "nb201": {
        "default": {
            "kendall_tau": 0.7607,
            "key": "ensembles_chosen_on_tune/rwe+synflow+jacob_cov+macs/holdout",
            "n": 500,
            "source": "benchmarks/results/evaluator_fidelity_1000.json",
            "spearman": 0.9242,
            "split": "holdout (mean of 5 halves)",
        },
        "fisher": {
            "kendall_tau": 0.2974,
            "key": "methods/fisher/holdout",
            "n": 500,
            "source": "benchmarks/results/evaluator_fidelity_1000.json",
            "spearman": 0.4224,
            "split": "holdout (mean of 5 halves)",
        },
        "grad_norm": {
            "kendall_tau": 0.4757,
            "key": "methods/grad_norm/holdout",
            "n": 500,
            "source": "benchmarks/results/evaluator_fidelity_1000.json",
            "spearman": 0.6473,
            "split": "holdout (mean of 5 halves)",
        },
        "jacob_cov": {
            "kendall_tau": 0.5226,
            "key": "methods/jacob_cov/holdout",
            "n": 500,
            "source": "benchmarks/results/evaluator_fidelity_1000.json",
            "spearman": 0.6883,
            "split": "holdout (mean of 5 halves)",
        },
        "macs": {
            "kendall_tau": 0.6237,
            "key": "methods/macs/holdout",
            "n": 500,
            "source": "benchmarks/results/evaluator_fidelity_1000.json",
            "spearman": 0.7978,
            "split": "holdout (mean of 5 halves)",
        },
        "naswot": {
            "kendall_tau": 0.6211,
            "key": "methods/naswot/holdout",
            "n": 500,
            "source": "benchmarks/results/evaluator_fidelity_1000.json",
            "spearman": 0.809,
            "split": "holdout (mean of 5 halves)",
        },
        "params": {
            "kendall_tau": 0.6237,
            "key": "methods/params/holdout",
            "n": 500,
            "source": "benchmarks/results/evaluator_fidelity_1000.json",
            "spearman": 0.7978,
            "split": "holdout (mean of 5 halves)",
        },
        "rwe": {
            "kendall_tau": 0.6287,
            "key": "methods/rwe/holdout",
            "n": 500,
            "source": "benchmarks/results/evaluator_fidelity_1000.json",
            "spearman": 0.8247,
            "split": "holdout (mean of 5 halves)",
        },
        "rwe_paper": {
            "kendall_tau": -0.2369,
            "key": "methods/rwe_paper",
            "n": 32,
            "source": "benchmarks/results/evaluator_fidelity.json",
            "spearman": -0.3389,
            "split": "all",
        },
        "snip": {
            "kendall_tau": 0.4783,
            "key": "methods/snip/holdout",
            "n": 500,
            "source": "benchmarks/results/evaluator_fidelity_1000.json",
            "spearman": 0.6489,
            "split": "holdout (mean of 5 halves)",
        },
        "synflow": {
            "kendall_tau": 0.586,
            "key": "methods/synflow/holdout",
            "n": 500,
            "source": "benchmarks/results/evaluator_fidelity_1000.json",
            "spearman": 0.7858,
            "split": "holdout (mean of 5 halves)",
        },
    },
    "nbmacro": {
        "macs": {
            "kendall_tau": 0.5561,
            "key": "figures/macs/holdout",
            "n": 500,
            "source": "benchmarks/results/nbmacro_estimators.json",
            "spearman": 0.7545,
            "split": "holdout half",
        },
        "params": {
            "kendall_tau": 0.2309,
            "key": "figures/params/holdout",
            "n": 203,
            "source": "benchmarks/results/nbmacro_estimators.json",
            "spearman": 0.3392,
            "split": "holdout half",
        },
    },
}
