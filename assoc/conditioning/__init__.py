"""Rescorla-Wagner conditioning: experiment designs, Numba sessions and the delta rule.

Quick start::

    from assoc.conditioning import run_sessions
    result = run_sessions("Blocking: 10A+ | 10AB+ | 1#B\\nControl: 10C+ | 10AB+ | 1#B",
                          n_subjects=100, seed=0)
    result.summary()

See ``docs/conditioning.md`` for the rule, the design grammar and the paradigms.
"""

from assoc.conditioning.design import Design, DesignError, Group, Phase, TrialType, load_design, parse_design
from assoc.conditioning.engine import RWParameters, run_events, run_sessions
from assoc.conditioning.paradigms import PARADIGMS, Paradigm, get_paradigm
from assoc.conditioning.results import ConditioningResult, GroupResult
from assoc.conditioning.vector import cosine_similarity, hetero_delta_update, hetero_recall

__all__ = [
    "PARADIGMS",
    "ConditioningResult",
    "Design",
    "DesignError",
    "Group",
    "GroupResult",
    "Paradigm",
    "Phase",
    "RWParameters",
    "TrialType",
    "cosine_similarity",
    "get_paradigm",
    "hetero_delta_update",
    "hetero_recall",
    "load_design",
    "parse_design",
    "run_events",
    "run_sessions",
]
