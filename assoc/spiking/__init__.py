"""Spiking conditioning model in brian2: two LIF populations, STDP, a conditioning protocol.

``from assoc.spiking import run_spiking_conditioning, SpikingConfig`` is the entry
point. The modules import brian2 inside their functions, so importing this package
does not load brian2.
"""

from assoc.spiking.experiment import (
    PhaseReadout,
    SpikingConfig,
    SpikingResults,
    Target,
    run_spiking_conditioning,
    write_run_file,
)
from assoc.spiking.model import NetworkConfig, PlasticityRule, code_to_rates
from assoc.spiking.protocol import Pairing, Phase, ProtocolConfig, TrialKind

__all__ = [
    "NetworkConfig",
    "Pairing",
    "Phase",
    "PhaseReadout",
    "PlasticityRule",
    "ProtocolConfig",
    "SpikingConfig",
    "SpikingResults",
    "Target",
    "TrialKind",
    "code_to_rates",
    "run_spiking_conditioning",
    "write_run_file",
]
