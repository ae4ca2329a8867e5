"""Self-organizing maps and Hebbian-linked pairs of maps for cross-modal retrieval.

:class:`SOM` trains one map (online Kohonen rule or batch map) and computes its
metrics; :class:`LinkedSOMs` links two maps, one per modality, with a Hebbian matrix
learned from paired samples. The formulas are in ``docs/som.md``.
"""

from assoc.som.grid import Grid, Topology
from assoc.som.linked import Activation, LinkedSOMs, Normalization, RecallMode
from assoc.som.schedules import Decay, decay_values
from assoc.som.som import SOM, Algorithm, Distance, Init, Neighborhood

__all__ = [
    "SOM",
    "LinkedSOMs",
    "Activation",
    "Algorithm",
    "Decay",
    "Distance",
    "Grid",
    "Init",
    "Neighborhood",
    "Normalization",
    "RecallMode",
    "Topology",
    "decay_values",
]
