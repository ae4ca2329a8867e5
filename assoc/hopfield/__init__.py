"""Hopfield networks: modern (continuous) retrieval, dense associative memory, classical net.

Conventions shared by every function here:

- stored patterns are rows, ``patterns`` of shape (n_patterns, n_features), and queries or
  states are rows too, shape (n_queries, n_features). Ramsauer et al. (2020) write the
  stored patterns as the columns of X, so their X^T xi is ``patterns @ xi`` here;
- ``beta`` is always the inverse temperature of the modern Hopfield softmax;
- float32 inputs give float32 results and float64 inputs float64 results;
- randomness comes only from ``seed`` arguments (an int, None or a numpy Generator).

Formulas and references: ``docs/hopfield.md``.
"""

from assoc.hopfield.classical import (
    classical_energy,
    classical_update,
    hebbian_weights,
    pseudo_inverse_weights,
    store,
    storkey_weights,
)
from assoc.hopfield.dense import dense_energy, dense_update, random_orders
from assoc.hopfield.diagnostics import (
    ClassicalMemory,
    DenseMemory,
    MetastableReport,
    ModernMemory,
    basin_size,
    capacity_sweep,
    corrupt,
    find_metastable,
    random_patterns,
    recall_fraction,
)
from assoc.hopfield.memory import ModernHopfield
from assoc.hopfield.modern import attention_weights, hetero_retrieve, modern_energy, retrieve

__all__ = [
    "ClassicalMemory",
    "DenseMemory",
    "MetastableReport",
    "ModernHopfield",
    "ModernMemory",
    "attention_weights",
    "basin_size",
    "capacity_sweep",
    "classical_energy",
    "classical_update",
    "corrupt",
    "dense_energy",
    "dense_update",
    "find_metastable",
    "hebbian_weights",
    "hetero_retrieve",
    "modern_energy",
    "pseudo_inverse_weights",
    "random_orders",
    "random_patterns",
    "recall_fraction",
    "retrieve",
    "store",
    "storkey_weights",
]
