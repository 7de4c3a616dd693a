"""A stateless calculator toolkit: arithmetic on lists, descriptive statistics, units, interest.

Every result is a JSON object whose numbers are rounded to 10 significant digits (integral values
become integers), so the text of a result is the same on every machine. Sums use ``math.fsum``
(exactly rounded) and nothing is ever ``eval``-ed. Failures (division by zero, an empty list, an
unknown unit, a domain error) are ``ToolError`` results.

May import: the standard library and ``opentoollab.tools.base``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any, ClassVar

from .base import Toolkit, ToolError

MAX_ITEMS = 10_000
SIGNIFICANT_DIGITS = 10


def number(value: float | int) -> int | float:
    """A finite result rounded to 10 significant digits; integral values (below 1e15) as int."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) <= 2**53:
            return value
        value = float(value)
    if not math.isfinite(value):
        raise ToolError("the result is too large or not a finite number")
    rounded = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if rounded.is_integer() and abs(rounded) < 1e15:
        return int(rounded)
    return rounded


_DECIMAL = Context(prec=60, rounding=ROUND_HALF_UP)


def round_half_up(value: float | int, decimals: int) -> int | float:
    """Round like a person does (2.675 → 2.68), using the number's shortest decimal text."""
    quantum = Decimal(1).scaleb(-decimals, context=_DECIMAL)
    try:  # an explicit context: the thread's global one may have been changed by other code (BFCL's MathAPI does)
        return number(float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP, context=_DECIMAL)))
    except InvalidOperation:  # more digits than Decimal's precision: already far coarser than the rounding
        return number(value)


def _values(numbers: list[float]) -> list[float]:
    if not numbers:
        raise ToolError("the list of numbers is empty")
    if len(numbers) > MAX_ITEMS:
        raise ToolError(f"too many numbers ({len(numbers)}; at most {MAX_ITEMS})")
    return numbers


def _mean(values: list[float]) -> float:
    if all(isinstance(v, int) for v in values):
        return sum(values) / len(values)
    return math.fsum(values) / len(values)


def _variance(values: list[float], population: bool) -> float:
    if len(values) < 2 and not population:
        raise ToolError("the sample variance needs at least two numbers (or set population to true)")
    mean = _mean(values)
    return math.fsum((v - mean) ** 2 for v in values) / (len(values) - (0 if population else 1))


# ---------------------------------------------------------------------------------- units
# unit → (category, factor to the category's base unit); temperature is handled separately.
_UNITS: dict[str, tuple[str, float]] = {
    # length, base metre
    "mm": ("length", 0.001), "cm": ("length", 0.01), "m": ("length", 1.0), "km": ("length", 1000.0),
    "in": ("length", 0.0254), "ft": ("length", 0.3048), "yd": ("length", 0.9144), "mi": ("length", 1609.344),
    "nmi": ("length", 1852.0),
    # mass, base kilogram
    "mg": ("mass", 1e-6), "g": ("mass", 0.001), "kg": ("mass", 1.0), "t": ("mass", 1000.0),
    "oz": ("mass", 0.028349523125), "lb": ("mass", 0.45359237), "st": ("mass", 6.35029318),
    # volume, base litre (US customary units)
    "ml": ("volume", 0.001), "cl": ("volume", 0.01), "dl": ("volume", 0.1), "l": ("volume", 1.0),
    "m3": ("volume", 1000.0), "tsp": ("volume", 0.00492892159375), "tbsp": ("volume", 0.01478676478125),
    "fl_oz": ("volume", 0.0295735295625), "cup": ("volume", 0.2365882365), "pt": ("volume", 0.473176473),
    "qt": ("volume", 0.946352946), "gal": ("volume", 3.785411784),
    # time, base second (a year is 365 days)
    "ms": ("time", 0.001), "s": ("time", 1.0), "min": ("time", 60.0), "h": ("time", 3600.0),
    "day": ("time", 86400.0), "week": ("time", 604800.0), "year": ("time", 31536000.0),
    # temperature (factors unused)
    "C": ("temperature", 1.0), "F": ("temperature", 1.0), "K": ("temperature", 1.0),
}
_ALIASES: dict[str, str] = {
    "millimeter": "mm", "millimetre": "mm", "centimeter": "cm", "centimetre": "cm", "meter": "m", "metre": "m",
    "kilometer": "km", "kilometre": "km", "inch": "in", "inches": "in", "foot": "ft", "feet": "ft",
    "yard": "yd", "mile": "mi", "nautical mile": "nmi",
    "milligram": "mg", "gram": "g", "kilogram": "kg", "kilo": "kg", "tonne": "t", "metric ton": "t",
    "ounce": "oz", "pound": "lb", "lbs": "lb", "stone": "st",
    "milliliter": "ml", "millilitre": "ml", "centiliter": "cl", "centilitre": "cl", "deciliter": "dl",
    "decilitre": "dl", "liter": "l", "litre": "l", "cubic meter": "m3", "cubic metre": "m3",
    "teaspoon": "tsp", "tablespoon": "tbsp", "fluid ounce": "fl_oz", "fl oz": "fl_oz", "pint": "pt",
    "quart": "qt", "gallon": "gal",
    "millisecond": "ms", "second": "s", "sec": "s", "minute": "min", "hour": "h", "hr": "h", "d": "day",
    "wk": "week", "yr": "year",
    "c": "C", "°c": "C", "celsius": "C", "degc": "C", "f": "F", "°f": "F", "fahrenheit": "F", "degf": "F",
    "k": "K", "kelvin": "K",
}
_CASE_SENSITIVE = {"C", "F", "K"}
for _unit in list(_UNITS):
    if _unit not in _CASE_SENSITIVE:
        _ALIASES.setdefault(_unit, _unit)


def canonical_unit(name: str) -> str:
    key = " ".join(name.strip().replace("_", " ").replace("-", " ").split())
    if key in _UNITS:
        return key
    key = key.lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if key.endswith("s") and key[:-1] in _ALIASES:  # plural: "meters", "hours"
        return _ALIASES[key[:-1]]
    raise ToolError(f"unknown unit {name!r}; known units: {', '.join(_UNITS)}")


def _to_celsius(value: float, unit: str) -> float:
    return {"C": value, "F": (value - 32) * 5 / 9, "K": value - 273.15}[unit]


def _from_celsius(value: float, unit: str) -> float:
    return {"C": value, "F": value * 9 / 5 + 32, "K": value + 273.15}[unit]


class MathStats(Toolkit):
    """Calculator and statistics tools (stateless)."""

    name: ClassVar[str] = "math"
    description: ClassVar[str] = ("Calculator: sums and products of lists, descriptive statistics, powers and "
                                  "logarithms, percentage change, unit conversion, compound interest, linear equations.")

    def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """As ``Toolkit.call``; arithmetic overflow on huge inputs (e.g. 1e400 as an integer) is an error result too."""
        try:
            return super().call(tool, arguments)
        except OverflowError:
            return {"error": "a number is too large to compute with"}

    # ------------------------------------------------------------------ arithmetic
    def sum_numbers(self, numbers: list[float]) -> dict[str, Any]:
        """Add up a list of numbers.

        Args:
            numbers: The numbers to add, e.g. [12.5, 3, -4].
        """
        values = _values(numbers)
        total = sum(values) if all(isinstance(v, int) for v in values) else math.fsum(values)
        return {"sum": number(total), "count": len(values)}

    def multiply_numbers(self, numbers: list[float]) -> dict[str, Any]:
        """Multiply a list of numbers together.

        Args:
            numbers: The numbers to multiply, e.g. [2, 3.5, 4].
        """
        product: float | int = 1
        for value in _values(numbers):
            product = product * value
            if isinstance(product, float) and not math.isfinite(product):
                raise ToolError("the product is too large")
            if isinstance(product, int) and abs(product) > 10**300:
                raise ToolError("the product is too large")
        return {"product": number(product), "count": len(numbers)}

    def divide_numbers(self, dividend: float, divisor: float) -> dict[str, Any]:
        """Divide one number by another.

        Args:
            dividend: The number to be divided.
            divisor: The number to divide by; must not be 0.
        """
        if divisor == 0:
            raise ToolError("division by zero")
        return {"quotient": number(dividend / divisor)}

    # ------------------------------------------------------------------ statistics
    def calculate_mean(self, numbers: list[float]) -> dict[str, Any]:
        """Arithmetic mean (average) of a list of numbers.

        Args:
            numbers: The data values.
        """
        values = _values(numbers)
        return {"mean": number(_mean(values)), "count": len(values)}

    def calculate_median(self, numbers: list[float]) -> dict[str, Any]:
        """Median (middle value) of a list of numbers; the mean of the two middle values for an even count.

        Args:
            numbers: The data values.
        """
        values = sorted(_values(numbers))
        middle = len(values) // 2
        median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
        return {"median": number(median), "count": len(values)}

    def calculate_mode(self, numbers: list[float]) -> dict[str, Any]:
        """Most frequent value(s) of a list of numbers; all tied values are returned, smallest first.

        Args:
            numbers: The data values.
        """
        counts: dict[float, int] = {}
        for value in _values(numbers):
            counts[value] = counts.get(value, 0) + 1
        top = max(counts.values())
        return {"modes": sorted(number(v) for v, c in counts.items() if c == top), "frequency": top}

    def calculate_variance(self, numbers: list[float], population: bool = False) -> dict[str, Any]:
        """Variance of a list of numbers (sample variance by default).

        Args:
            numbers: The data values.
            population: True for the population variance (divide by n) instead of the sample variance (divide by n - 1).
        """
        values = _values(numbers)
        return {"variance": number(_variance(values, population)), "population": population, "count": len(values)}

    def calculate_stdev(self, numbers: list[float], population: bool = False) -> dict[str, Any]:
        """Standard deviation of a list of numbers (sample standard deviation by default).

        Args:
            numbers: The data values.
            population: True for the population standard deviation (divide by n) instead of the sample one (n - 1).
        """
        values = _values(numbers)
        return {"stdev": number(math.sqrt(_variance(values, population))), "population": population,
                "count": len(values)}

    def calculate_percentile(self, numbers: list[float], percentile: float) -> dict[str, Any]:
        """The given percentile of a list of numbers, with linear interpolation between ranks (like Excel PERCENTILE.INC).

        Args:
            numbers: The data values.
            percentile: The percentile to compute, from 0 to 100 (50 is the median, 90 the 90th percentile).
        """
        if not 0 <= percentile <= 100:
            raise ToolError("percentile must be between 0 and 100")
        values = sorted(_values(numbers))
        rank = (len(values) - 1) * percentile / 100
        low = math.floor(rank)
        high = min(low + 1, len(values) - 1)
        result = values[low] + (values[high] - values[low]) * (rank - low)
        return {"percentile": number(percentile), "value": number(result), "count": len(values)}

    def find_min_max(self, numbers: list[float]) -> dict[str, Any]:
        """Smallest and largest value of a list of numbers, and the range between them.

        Args:
            numbers: The data values.
        """
        values = _values(numbers)
        low, high = min(values), max(values)
        return {"min": number(low), "max": number(high), "range": number(high - low), "count": len(values)}

    # ------------------------------------------------------------------ functions
    def round_to_digits(self, value: float, decimals: int = 0) -> dict[str, Any]:
        """Round a number to a number of decimal places, halves rounding away from zero (2.675 → 2.68).

        Args:
            value: The number to round.
            decimals: Decimal places to keep, from -10 to 10; negative values round to tens, hundreds, ... (e.g. -2 → nearest 100).
        """
        if not -10 <= decimals <= 10:
            raise ToolError("decimals must be between -10 and 10")
        return {"rounded": round_half_up(value, decimals)}

    def compute_power(self, base: float, exponent: float) -> dict[str, Any]:
        """Raise a number to a power: base ** exponent.

        Args:
            base: The base.
            exponent: The exponent (may be negative or fractional; a fractional exponent needs a non-negative base).
        """
        if base == 0 and exponent < 0:
            raise ToolError("division by zero: 0 cannot be raised to a negative power")
        try:
            result = math.pow(base, exponent)
        except OverflowError:
            raise ToolError("the result is too large") from None
        except ValueError:
            raise ToolError("a negative base cannot be raised to a fractional power") from None
        return {"result": number(result)}

    def compute_square_root(self, value: float) -> dict[str, Any]:
        """Square root of a non-negative number.

        Args:
            value: The number; must be 0 or greater.
        """
        if value < 0:
            raise ToolError("cannot take the square root of a negative number")
        return {"square_root": number(math.sqrt(value))}

    def compute_logarithm(self, value: float, base: float = 10) -> dict[str, Any]:
        """Logarithm of a positive number in a given base (10 by default).

        Args:
            value: The number; must be greater than 0.
            base: The base of the logarithm, greater than 0 and not 1 (use 2.718281828459045 for the natural logarithm).
        """
        if value <= 0:
            raise ToolError("the logarithm is only defined for numbers greater than 0")
        if base <= 0 or base == 1:
            raise ToolError("the base must be greater than 0 and not 1")
        if base == 10:
            result = math.log10(value)
        elif base == 2:
            result = math.log2(value)
        else:
            result = math.log(value) / math.log(base)
        return {"logarithm": number(result), "base": number(base)}

    def percent_change(self, old_value: float, new_value: float) -> dict[str, Any]:
        """Percentage change from an old value to a new value: (new - old) / |old| * 100.

        Args:
            old_value: The starting value; must not be 0.
            new_value: The new value.
        """
        if old_value == 0:
            raise ToolError("division by zero: the percentage change from 0 is undefined")
        change = new_value - old_value
        return {"change": number(change), "percent_change": number(change / abs(old_value) * 100)}

    def convert_units(self, value: float, from_unit: str, to_unit: str) -> dict[str, Any]:
        """Convert a quantity between units of length, mass, volume, time or temperature.

        Known units: length mm, cm, m, km, in, ft, yd, mi, nmi; mass mg, g, kg, t (tonne), oz, lb, st;
        volume ml, cl, dl, l, m3, tsp, tbsp, fl_oz, cup, pt, qt, gal (US measures); time ms, s, min, h,
        day, week, year (365 days); temperature C, F, K. Full names such as "kilometers" or "fahrenheit" work too.

        Args:
            value: The quantity to convert.
            from_unit: The unit the value is in, e.g. "km", "lb", "F".
            to_unit: The unit to convert to; must measure the same kind of quantity as from_unit.
        """
        source, target = canonical_unit(from_unit), canonical_unit(to_unit)
        kind, kind_to = _UNITS[source][0], _UNITS[target][0]
        if kind != kind_to:
            raise ToolError(f"cannot convert {kind} ({source}) to {kind_to} ({target})")
        if kind == "temperature":
            celsius = _to_celsius(value, source)
            if celsius < -273.15 - 1e-9:
                raise ToolError("the temperature is below absolute zero (-273.15 C, -459.67 F, 0 K)")
            result = _from_celsius(celsius, target)
        else:
            result = value * _UNITS[source][1] / _UNITS[target][1]
        return {"value": number(result), "unit": target, "from_value": number(value), "from_unit": source,
                "quantity": kind}

    def compound_interest(self, principal: float, annual_rate_percent: float, years: float,
                          compounds_per_year: int = 12) -> dict[str, Any]:
        """Future value of an amount with compound interest: principal * (1 + rate/n) ** (n * years).

        Args:
            principal: The starting amount; 0 or greater.
            annual_rate_percent: The yearly interest rate in percent, e.g. 4.5 for 4.5 %.
            years: How many years the money grows; 0 or greater (fractions allowed).
            compounds_per_year: How often interest is added per year: 1 yearly, 4 quarterly, 12 monthly, 365 daily.
        """
        if principal < 0 or years < 0:
            raise ToolError("principal and years must be 0 or greater")
        if compounds_per_year < 1:
            raise ToolError("compounds_per_year must be at least 1")
        if annual_rate_percent <= -100:
            raise ToolError("the annual rate must be greater than -100 %")
        try:
            amount = principal * math.pow(1 + annual_rate_percent / 100 / compounds_per_year, compounds_per_year * years)
        except OverflowError:
            raise ToolError("the result is too large") from None
        amount = number(amount)
        final = round_half_up(amount, 2)
        return {"final_amount": final, "interest_earned": round_half_up(number(final - principal), 2),
                "principal": number(principal), "annual_rate_percent": number(annual_rate_percent),
                "years": number(years), "compounds_per_year": compounds_per_year}

    def solve_linear_equation(self, a: float, b: float, c: float) -> dict[str, Any]:
        """Solve a * x + b = c for x.

        Args:
            a: The coefficient of x; must not be 0.
            b: The constant on the left-hand side.
            c: The right-hand side.
        """
        if a == 0:
            raise ToolError("a is 0: " + ("every x solves the equation" if b == c else "the equation has no solution"))
        return {"x": number((c - b) / a)}
