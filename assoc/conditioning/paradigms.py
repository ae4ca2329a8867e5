"""Built-in conditioning paradigms, each with the outcome Rescorla-Wagner predicts.

``docs/conditioning.md`` derives each prediction. ``latent_inhibition`` is an
effect the model misses: its ``rw_predicts_effect`` is False.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from assoc.conditioning.design import Design, parse_design
from assoc.conditioning.engine import RWParameters
from assoc.errors import ConfigError


@dataclass(frozen=True)
class Paradigm:
    """A named experiment with its parameters and the textbook RW prediction.

    Attributes
    ----------
    name : str
    text : str
        The design in design syntax.
    parameters : RWParameters
    prediction : str
        What Rescorla-Wagner predicts, in one or two sentences.
    rw_predicts_effect : bool
        False when animals show an effect that the model does not produce.
    """

    name: str
    text: str
    parameters: RWParameters = field(default_factory=RWParameters)
    prediction: str = ""
    rw_predicts_effect: bool = True

    @property
    def design(self) -> Design:
        return parse_design(self.text, origin=f"paradigm {self.name!r}")


PARADIGMS: dict[str, Paradigm] = {
    paradigm.name: paradigm
    for paradigm in (
        Paradigm(
            "acquisition",
            "Acquisition: 20A+",
            prediction="V_A rises as λ(1 − (1 − αβ⁺)ⁿ) towards λ.",
        ),
        Paradigm(
            "extinction",
            "Extinction: 20A+ | 20A-",
            prediction="Acquisition as above, then V_A decays as V_0 (1 − αβ⁻)ⁿ towards 0.",
        ),
        Paradigm(
            "blocking",
            "Blocking: 20A+ | 10AB+ | 1#A/1#B\nControl: 20C+ | 10AB+ | 1#A/1#B",
            prediction="A pretrained to near λ leaves almost no error for B in the compound, so V_B "
            "stays near 0 in Blocking and reaches about λ/2 in Control.",
        ),
        Paradigm(
            "overshadowing",
            "Overshadowing: 20AB+ | 1#A/1#B\nControl: 20A+ | 1#A",
            parameters=RWParameters(alpha={"A": 0.5, "B": 0.2}),
            prediction="A and B share one error term, so V_A/V_B = α_A/α_B on every trial and "
            "V_A + V_B → λ; each ends below a cue trained alone.",
        ),
        Paradigm(
            "conditioned_inhibition",
            "Inhibition: !50A+/50AX- | 1#A/1#X",
            prediction="V_A → λ and V_A + V_X → 0, so V_X → −λ: X becomes a conditioned inhibitor.",
        ),
        Paradigm(
            "overexpectation",
            "Overexpectation: !20A+/20B+ | 10AB+ | 1#A/1#B\nControl: !20A+/20B+ | | 1#A/1#B",
            prediction="After separate training V_A ≈ V_B ≈ λ; the compound predicts 2λ > λ, so both "
            "lose strength on reinforced AB trials, towards λ/2 each with equal saliences.",
        ),
        Paradigm(
            "partial_reinforcement",
            "Partial: !20A+/20A- | 20A-\nContinuous: 20A+ | 20A-",
            prediction="With half the trials reinforced V_A fluctuates around "
            "β⁺λ/(β⁺ + β⁻), below continuous reinforcement. RW misses the partial-reinforcement "
            "extinction effect: it predicts the lower V of Partial extinguishes no more slowly.",
        ),
        Paradigm(
            "latent_inhibition",
            "Preexposed: 30A- | 10A+\nControl: | 10A+",
            prediction="Not predicted by RW. Animals pre-exposed to A without a US acquire more slowly; "
            "in RW, A- trials with V_A = 0 have zero error, so both groups acquire identically.",
            rw_predicts_effect=False,
        ),
    )
}


def get_paradigm(name: str) -> Paradigm:
    """Return the built-in paradigm ``name`` (see :data:`PARADIGMS`)."""
    if name not in PARADIGMS:
        close = difflib.get_close_matches(name, PARADIGMS, n=1)
        choices = f"one of {', '.join(PARADIGMS)}"
        if close:
            raise ConfigError(f"Unknown paradigm {name!r}; did you mean {close[0]!r}? Choose {choices}.")
        raise ConfigError(f"Unknown paradigm {name!r}; choose {choices}.")
    return PARADIGMS[name]
