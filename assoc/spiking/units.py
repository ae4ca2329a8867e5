"""Unit checks for brian2 quantities at the boundary of the spiking model.

brian2 is imported inside each function, so importing this module stays cheap.
"""

from __future__ import annotations

import numbers

from assoc.errors import ConfigError

# Unit names accepted by :func:`parse_quantity` and shown in error messages, by dimension.
UNIT_EXAMPLES = {"time": "ms", "rate": "Hz", "voltage": "mV"}


def _reference_unit(kind: str):
    import brian2

    return {"time": brian2.second, "rate": brian2.Hz, "voltage": brian2.volt}[kind]


def require_quantity(name: str, value, kind: str, *, positive: bool = False, non_negative: bool = False):
    """Return ``value`` unchanged after checking that it is a brian2 quantity of dimension ``kind``.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : brian2.Quantity
        A scalar with units, for example ``20*ms``.
    kind : {'time', 'rate', 'voltage'}
    positive, non_negative : bool
        Also require ``value > 0`` or ``value >= 0``.

    Raises
    ------
    ConfigError
        If ``value`` is a bare number, has other dimensions, is not a scalar or
        has the wrong sign. The message names the parameter and the expected unit.
    """
    import brian2

    unit = UNIT_EXAMPLES[kind]
    if isinstance(value, numbers.Number) and not isinstance(value, brian2.Quantity):
        raise ConfigError(
            f"{name} must be a {kind} with brian2 units, for example {name}={value}*{unit}; "
            f"got the bare number {value!r}."
        )
    if not isinstance(value, brian2.Quantity):
        raise ConfigError(f"{name} must be a {kind} with brian2 units (e.g. 10*{unit}); got {value!r}.")
    if not brian2.have_same_dimensions(value, _reference_unit(kind)):
        raise ConfigError(
            f"{name} must be a {kind} in units of {unit}; got {value!r} with dimensions {value.dim}."
        )
    if value.size != 1:
        raise ConfigError(f"{name} must be a scalar {kind}; got an array of shape {value.shape}.")
    if positive and not float(value) > 0:
        raise ConfigError(f"{name} must be positive; got {value!r}.")
    if non_negative and not float(value) >= 0:
        raise ConfigError(f"{name} must not be negative; got {value!r}.")
    return value


def parse_quantity(text: str, kind: str):
    """Parse a string such as ``"20 ms"`` or ``"5 Hz"`` into a brian2 quantity of dimension ``kind``.

    Only a number followed by one brian2 unit name is accepted, so configuration
    files never evaluate code.
    """
    import brian2

    parts = str(text).split()
    if len(parts) != 2:
        raise ConfigError(
            f"Cannot read {text!r} as a {kind}; write a number and a unit, for example '20 {UNIT_EXAMPLES[kind]}'."
        )
    number, unit_name = parts
    unit = getattr(brian2.units, unit_name, None)
    if not isinstance(unit, brian2.Unit):
        raise ConfigError(f"Unknown unit {unit_name!r} in {text!r}; use a brian2 unit such as {UNIT_EXAMPLES[kind]}.")
    try:
        magnitude = float(number)
    except ValueError:
        raise ConfigError(f"Cannot read the number {number!r} in {text!r}.") from None
    return require_quantity(repr(text), magnitude * unit, kind)


def format_quantity(value) -> str:
    """Format a scalar brian2 quantity as ``'<number> <unit>'``, readable by :func:`parse_quantity`."""
    import brian2

    unit = brian2.get_unit(value.dim)
    best = value.get_best_unit()
    return f"{float(value / best)!r} {best}" if best is not None else f"{float(value / unit)!r} {unit}"
