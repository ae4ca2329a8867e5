"""assoc: Hebbian and associative-memory simulation over a shared, modality-rotated embedding.

The ``assoc`` package is the torch-free core: datasets, associative-memory kernels
and the command line. ``models`` (PyTorch), ``analysis`` (metrics and plots) and
``sims`` (the experiment runner) sit beside it; see ``docs/architecture.md``.
"""

__version__ = "0.1.0"
