"""Measured rank fidelity of each (space, estimator) pair: generated, do not edit.

Written by `benchmarks/fidelity_table.py` from the committed JSONs each entry names
(`source`, `key`); `tests/search/test_fidelity_table.py` fails if they disagree.
Spearman rho / Kendall tau of -score against trained accuracy (higher = better).
"""

from typing import Any

MEASURED: dict[str, dict[str, dict[str, Any]]] = {
    "mbv3": {
        "macs": {
            "kendall_tau": 0.513,
            "key": "mbv3_transfer/macs",
            "n": 46,
            "source": "benchmarks/results/nbmacro_estimators.json",
            "spearman": 0.7004,
            "split": "all 46",
        },
        "naswot": {
            "kendall_tau": 0.3856,
            "key": "mbv3_transfer/naswot",
            "n": 18,
            "source": "benchmarks/results/nbmacro_estimators.json",
            "spearman": 0.5769,
            "split": "all 46",
        },
        "params": {
            "kendall_tau": 0.2277,
            "key": "mbv3_transfer/params",
            "n": 46,
            "source": "benchmarks/results/nbmacro_estimators.json",
            "spearman": 0.3376,
            "split": "all 46",
        },
        "snip": {
            "kendall_tau": 0.6367,
            "key": "mbv3_transfer/snip",
            "n": 46,
            "source": "benchmarks/results/nbmacro_estimators.json",
            "spearman": 0.8165,
            "split": "all 46",
        },
        "synflow": {
            "kendall_tau": 0.4029,
            "key": "mbv3_transfer/synflow",
            "n": 46,
            "source": "benchmarks/results/nbmacro_estimators.json",
            "spearman": 0.5901,
            "split": "all 46",
        },
    },
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
            "kendall_tau": 0.2287,
            "key": "figures/params/holdout",
            "n": 500,
            "source": "benchmarks/results/nbmacro_estimators.json",
            "spearman": 0.3351,
            "split": "holdout half",
        },
        "synflow": {
            "kendall_tau": 0.4791,
            "key": "figures/synflow/holdout",
            "n": 111,
            "source": "benchmarks/results/nbmacro_estimators.json",
            "spearman": 0.6633,
            "split": "holdout half",
        },
    },
}
