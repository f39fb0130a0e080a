"""Maths: a calculator with arithmetic, statistics, number theory, unit conversion, matrices and a memory.

Structure that makes data hard: every tool returns plain numbers ({"result": ...}) that later steps must
feed on by hand (a mean into a subtraction, a standard deviation into a division, a discriminant into a
square root); values saved under a memory key come back only through ``math_recall``; every computation
is logged in a history whose results can be stored in memory.
"""

from __future__ import annotations

import math
import re
import statistics
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hardgen.environment.base import Dependency, Suite, ToolError
from hardgen.environment.registry import register_suite

_HISTORY_LIMIT = 100
_MAX_MATRIX = 10
_MAX_PRIME_INPUT = 10**12
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


def _d(before: str, after: str, output: str, parameter: str) -> Dependency:
    return Dependency(before, after, "value", output, parameter)


_SCALAR_TOOLS = (
    "math_add",
    "math_subtract",
    "math_multiply",
    "math_divide",
    "math_power",
    "math_sqrt",
    "math_log",
    "math_factorial",
    "math_gcd",
    "math_lcm",
    "math_mean",
    "math_stdev",
    "math_convert_unit",
    "math_percentage",
    "math_round",
    "math_matrix_determinant",
)
_RECALL_TARGETS = (
    ("math_add", "a"),
    ("math_subtract", "a"),
    ("math_multiply", "a"),
    ("math_divide", "a"),
    ("math_power", "base"),
    ("math_sqrt", "x"),
    ("math_log", "x"),
    ("math_percentage", "part"),
    ("math_round", "x"),
    ("math_convert_unit", "value"),
)


@register_suite
class MathsSuite(Suite):
    name = "maths"
    domain = "maths"
    description = "A calculator: arithmetic, statistics, primes, units, quadratics, matrices, with a memory."
    dependencies = (
        *(_d(t, "math_store_result", "result", "value") for t in _SCALAR_TOOLS),
        _d("math_history", "math_store_result", "entries[].result", "value"),
        _d("math_store_result", "math_recall", "key", "key"),
        *(_d("math_recall", t, "result", p) for t, p in _RECALL_TARGETS),
        _d("math_solve_quadratic", "math_sqrt", "discriminant", "x"),
        _d("math_mean", "math_subtract", "result", "b"),
        _d("math_subtract", "math_divide", "result", "a"),
        _d("math_stdev", "math_divide", "result", "b"),
        _d("math_add", "math_power", "result", "base"),
        _d("math_power", "math_multiply", "result", "b"),
        _d("math_multiply", "math_round", "result", "x"),
        _d("math_divide", "math_round", "result", "x"),
        _d("math_percentage", "math_round", "result", "x"),
        _d("math_convert_unit", "math_round", "result", "x"),
        _d("math_factorial", "math_divide", "result", "a"),
        _d("math_gcd", "math_divide", "result", "b"),
        _d("math_sqrt", "math_add", "result", "b"),
        _d("math_matrix_multiply", "math_matrix_determinant", "result", "matrix"),
        _d("math_matrix_multiply", "math_matrix_multiply", "result", "a"),
    )

    # State (public attributes, set from data/maths.json).
    memory: dict[str, float]
    history: list[dict[str, Any]]
    next_id: int
    units: dict[str, dict[str, Any]]  # category -> unit -> factor to the base unit, or [factor, offset]

    # -------------------------------------------------------------- helpers (private: not tools)

    def _record(self, operation: str, inputs: dict[str, Any], result: Any) -> None:
        self.next_id += 1
        self.history.append(
            {"entry_id": f"H{self.next_id}", "operation": operation, "inputs": inputs, "result": result}
        )
        del self.history[:-_HISTORY_LIMIT]

    def _answer(self, operation: str, inputs: dict[str, Any], value: float) -> dict[str, Any]:
        result = _clean(value)
        self._record(operation, inputs, result)
        return {"result": result}

    def _unit(self, unit: str) -> tuple[str, float, float]:
        for category, table in self.units.items():
            if unit in table:
                entry = table[unit]
                factor, offset = (entry[0], entry[1]) if isinstance(entry, list) else (entry, 0.0)
                return category, float(factor), float(offset)
        known = "; ".join(f"{c}: {', '.join(sorted(t))}" for c, t in sorted(self.units.items()))
        raise ToolError(f"Unknown unit {unit!r}. Known units are {known}.", "not_found")

    # -------------------------------------------------------------- arithmetic

    def math_add(self, a: float, b: float) -> dict[str, Any]:
        """Add two numbers.

        Args:
            a: The first number.
            b: The second number.

        Returns:
            The sum a + b as {"result": number}.
        """
        return self._answer("add", {"a": a, "b": b}, a + b)

    def math_subtract(self, a: float, b: float) -> dict[str, Any]:
        """Subtract one number from another.

        Args:
            a: The number to subtract from.
            b: The number to subtract.

        Returns:
            The difference a - b as {"result": number}.
        """
        return self._answer("subtract", {"a": a, "b": b}, a - b)

    def math_multiply(self, a: float, b: float) -> dict[str, Any]:
        """Multiply two numbers.

        Args:
            a: The first factor.
            b: The second factor.

        Returns:
            The product a * b as {"result": number}.
        """
        return self._answer("multiply", {"a": a, "b": b}, a * b)

    def math_divide(self, a: float, b: float) -> dict[str, Any]:
        """Divide one number by another.

        Args:
            a: The dividend.
            b: The divisor; must not be zero.

        Returns:
            The quotient a / b as {"result": number}.
        """
        if b == 0:
            raise ToolError("Division by zero is undefined.", "invalid")
        return self._answer("divide", {"a": a, "b": b}, a / b)

    def math_power(self, base: float, exponent: float) -> dict[str, Any]:
        """Raise a number to a power.

        Args:
            base: The base.
            exponent: The exponent (fractional exponents need a non-negative base).

        Returns:
            base ** exponent as {"result": number}.
        """
        try:
            value = math.pow(base, exponent)
        except (OverflowError, ValueError):
            raise ToolError(f"{base} ** {exponent} has no real, finite value.", "invalid") from None
        return self._answer("power", {"base": base, "exponent": exponent}, value)

    def math_sqrt(self, x: float) -> dict[str, Any]:
        """Square root of a number.

        Args:
            x: A non-negative number.

        Returns:
            The square root as {"result": number}.
        """
        if x < 0:
            raise ToolError("A negative number has no real square root.", "invalid")
        return self._answer("sqrt", {"x": x}, math.sqrt(x))

    def math_log(self, x: float, base: float | None = None) -> dict[str, Any]:
        """Logarithm of a number.

        Args:
            x: A positive number.
            base: The base (positive, not 1); the natural logarithm when omitted.

        Returns:
            The logarithm as {"result": number}.
        """
        if x <= 0:
            raise ToolError("The logarithm is only defined for positive numbers.", "invalid")
        if base is not None and (base <= 0 or base == 1):
            raise ToolError("A logarithm base must be positive and not 1.", "invalid")
        value = math.log(x) if base is None else math.log(x, base)
        return self._answer("log", {"x": x, "base": base}, value)

    def math_factorial(self, n: int) -> dict[str, Any]:
        """Factorial n! of a whole number.

        Args:
            n: A whole number from 0 to 170 (exact up to 20!, floating point above).

        Returns:
            n! as {"result": number}.
        """
        if not 0 <= n <= 170:
            raise ToolError("The factorial is computed for whole numbers from 0 to 170.", "invalid")
        exact = math.factorial(n)
        value: float = exact if n <= 20 else float(exact)
        return self._answer("factorial", {"n": n}, value)

    def math_gcd(self, a: int, b: int) -> dict[str, Any]:
        """Greatest common divisor of two whole numbers.

        Args:
            a: The first whole number.
            b: The second whole number; not both zero.

        Returns:
            The greatest common divisor as {"result": number}.
        """
        if a == 0 and b == 0:
            raise ToolError("gcd(0, 0) is undefined.", "invalid")
        return self._answer("gcd", {"a": a, "b": b}, math.gcd(a, b))

    def math_lcm(self, a: int, b: int) -> dict[str, Any]:
        """Least common multiple of two non-zero whole numbers.

        Args:
            a: The first whole number, not zero.
            b: The second whole number, not zero.

        Returns:
            The least common multiple as {"result": number}.
        """
        if a == 0 or b == 0:
            raise ToolError("The least common multiple needs two non-zero numbers.", "invalid")
        return self._answer("lcm", {"a": a, "b": b}, math.lcm(a, b))

    def math_percentage(self, part: float, whole: float) -> dict[str, Any]:
        """What percentage one number is of another.

        Args:
            part: The part.
            whole: The whole; must not be zero.

        Returns:
            part / whole * 100 as {"result": number}.
        """
        if whole == 0:
            raise ToolError("A percentage of zero is undefined.", "invalid")
        return self._answer("percentage", {"part": part, "whole": whole}, part / whole * 100)

    def math_round(self, x: float, decimals: int = 0) -> dict[str, Any]:
        """Round a number to a number of decimal places (halves round away from zero).

        Args:
            x: The number to round.
            decimals: Decimal places to keep, from 0 to 12.

        Returns:
            The rounded number as {"result": number}.
        """
        if not 0 <= decimals <= 12:
            raise ToolError("decimals must be between 0 and 12.", "invalid")
        value = float(x)
        if abs(value) < 2**52:  # larger floats have no fractional digits left to round
            quantum = Decimal(1).scaleb(-decimals)
            value = float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))
        return self._answer("round", {"x": x, "decimals": decimals}, value)

    # -------------------------------------------------------------- statistics and algebra

    def math_mean(self, numbers: list[float]) -> dict[str, Any]:
        """Arithmetic mean of a list of numbers.

        Args:
            numbers: The numbers; at least one.

        Returns:
            The mean as {"result": number}.
        """
        if not numbers:
            raise ToolError("The mean of an empty list is undefined.", "invalid")
        try:
            value = statistics.fmean(numbers)
        except OverflowError:
            raise ToolError("The numbers are too large to average.", "invalid") from None
        return self._answer("mean", {"numbers": numbers}, value)

    def math_stdev(self, numbers: list[float], population: bool = False) -> dict[str, Any]:
        """Standard deviation of a list of numbers.

        Args:
            numbers: The numbers; at least two for the sample standard deviation.
            population: Whether to compute the population (n) instead of the sample (n - 1) deviation.

        Returns:
            The standard deviation as {"result": number}.
        """
        needed = 1 if population else 2
        if len(numbers) < needed:
            kind = "population" if population else "sample"
            raise ToolError(f"The {kind} standard deviation needs at least {needed} numbers.", "invalid")
        try:
            value = statistics.pstdev(numbers) if population else statistics.stdev(numbers)
        except OverflowError:
            raise ToolError("The numbers are too large for a standard deviation.", "invalid") from None
        return self._answer("stdev", {"numbers": numbers, "population": population}, value)

    def math_solve_quadratic(self, a: float, b: float, c: float) -> dict[str, Any]:
        """Solve a*x^2 + b*x + c = 0 for real x.

        Args:
            a: The x^2 coefficient; must not be zero.
            b: The x coefficient.
            c: The constant term.

        Returns:
            The discriminant and the real roots, smallest first (none when the discriminant is negative).
        """
        if a == 0:
            raise ToolError("a is zero: this is not a quadratic equation.", "invalid")
        disc = b * b - 4 * a * c
        if disc < 0:
            roots: list[float] = []
        elif disc == 0:
            roots = [_clean(-b / (2 * a))]
        else:
            root = math.sqrt(disc)
            roots = sorted(_clean((-b + sign * root) / (2 * a)) for sign in (-1, 1))
        self._record("solve_quadratic", {"a": a, "b": b, "c": c}, roots)
        return {"discriminant": _clean(disc), "roots": roots}

    def math_prime_factors(self, n: int) -> dict[str, Any]:
        """Factor a whole number into primes.

        Args:
            n: A whole number from 2 to 10^12.

        Returns:
            The prime factors in ascending order (repeated as often as they divide n) and whether n is prime.
        """
        if not 2 <= n <= _MAX_PRIME_INPUT:
            raise ToolError("n must be a whole number from 2 to 10^12.", "invalid")
        factors, rest, p = [], n, 2
        while p * p <= rest:
            while rest % p == 0:
                factors.append(p)
                rest //= p
            p += 1 if p == 2 else 2
        if rest > 1:
            factors.append(rest)
        self._record("prime_factors", {"n": n}, factors)
        return {"factors": factors, "is_prime": factors == [n]}

    def math_convert_unit(self, value: float, from_unit: str, to_unit: str) -> dict[str, Any]:
        """Convert a quantity between units of the same kind (length, mass, volume, time, speed, area, data,
        temperature).

        Args:
            value: The quantity in from_unit.
            from_unit: Unit symbol, e.g. "km", "lb", "gal", "h", "mph", "acre", "GiB", "F".
            to_unit: Unit symbol of the same kind, e.g. "mi", "kg", "l", "min", "km/h", "m2", "MB", "C".

        Returns:
            The converted quantity as {"result": number} and its unit.
        """
        kind_from, factor_from, offset_from = self._unit(from_unit)
        kind_to, factor_to, offset_to = self._unit(to_unit)
        if kind_from != kind_to:
            raise ToolError(
                f"Cannot convert {kind_from} ({from_unit}) into {kind_to} ({to_unit}).", "invalid"
            )
        base = value * factor_from + offset_from
        answer = self._answer(
            "convert_unit",
            {"value": value, "from_unit": from_unit, "to_unit": to_unit},
            (base - offset_to) / factor_to,
        )
        return {**answer, "unit": to_unit}

    # -------------------------------------------------------------- matrices

    def math_matrix_multiply(self, a: list[list[float]], b: list[list[float]]) -> dict[str, Any]:
        """Multiply two matrices (rows of numbers).

        Args:
            a: The left matrix, m x n, at most 10 x 10.
            b: The right matrix, n x p: its row count equals a's column count.

        Returns:
            The product matrix as {"result": [[...], ...]}.
        """
        rows_a, cols_a = _shape(a, "a")
        rows_b, cols_b = _shape(b, "b")
        if cols_a != rows_b:
            raise ToolError(f"Cannot multiply a {rows_a}x{cols_a} by a {rows_b}x{cols_b} matrix.", "invalid")
        product = [
            [_clean(math.fsum(a[i][k] * b[k][j] for k in range(cols_a))) for j in range(cols_b)]
            for i in range(rows_a)
        ]
        self._record("matrix_multiply", {"a": a, "b": b}, product)
        return {"result": product}

    def math_matrix_determinant(self, matrix: list[list[float]]) -> dict[str, Any]:
        """Determinant of a square matrix.

        Args:
            matrix: A square matrix (rows of numbers), at most 10 x 10.

        Returns:
            The determinant as {"result": number}.
        """
        rows, cols = _shape(matrix, "matrix")
        if rows != cols:
            raise ToolError(f"Only square matrices have a determinant; this one is {rows}x{cols}.", "invalid")
        return self._answer("matrix_determinant", {"matrix": matrix}, _determinant(matrix))

    # -------------------------------------------------------------- memory and history

    def math_store_result(self, key: str, value: float, overwrite: bool = False) -> dict[str, Any]:
        """Save a number in memory under a key, for later recall.

        Args:
            key: The memory key: letters, digits and underscores, starting with a letter or underscore.
            value: The number to save.
            overwrite: Whether to replace a value already saved under this key.

        Returns:
            The key and the saved value.
        """
        if not _KEY.match(key):
            raise ToolError("A memory key has up to 40 letters, digits or underscores.", "invalid")
        if key in self.memory and not overwrite:
            held = self.memory[key]
            raise ToolError(
                f"Memory key {key!r} already holds {held}; set overwrite to replace it.", "conflict"
            )
        self.memory[key] = _clean(value)
        return {"key": key, "value": self.memory[key]}

    def math_recall(self, key: str) -> dict[str, Any]:
        """Read a number saved in memory.

        Args:
            key: The memory key.

        Returns:
            The saved value as {"result": number}.
        """
        if key not in self.memory:
            keys = ", ".join(sorted(self.memory)) or "none"
            raise ToolError(f"Nothing is saved under {key!r}; saved keys: {keys}.", "not_found")
        return {"key": key, "result": self.memory[key]}

    def math_history(self, limit: int = 10) -> dict[str, Any]:
        """The most recent calculations, newest last.

        Args:
            limit: How many entries to show (1 to 100).

        Returns:
            Entries with their id, operation, inputs and result.
        """
        if not 1 <= limit <= _HISTORY_LIMIT:
            raise ToolError(f"limit must be between 1 and {_HISTORY_LIMIT}.", "invalid")
        return {"entries": self.history[-limit:]}


def _clean(value: float) -> float:
    """A finite result without float noise (12 significant decimals); whole floats become ints."""
    if isinstance(value, int):
        return value
    if not math.isfinite(value):
        raise ToolError("The result is too large to represent.", "invalid")
    rounded = round(value, 10)
    if rounded.is_integer() and abs(rounded) < 2**53:
        return int(rounded)
    return rounded


def _shape(matrix: list[list[float]], name: str) -> tuple[int, int]:
    if not matrix or not matrix[0]:
        raise ToolError(f"Matrix {name} is empty.", "invalid")
    cols = len(matrix[0])
    if any(len(row) != cols for row in matrix):
        raise ToolError(f"The rows of matrix {name} have different lengths.", "invalid")
    if len(matrix) > _MAX_MATRIX or cols > _MAX_MATRIX:
        raise ToolError(f"Matrices are limited to {_MAX_MATRIX}x{_MAX_MATRIX}.", "invalid")
    return len(matrix), cols


def _determinant(matrix: list[list[float]]) -> float:
    """Gaussian elimination with partial pivoting."""
    m = [[float(v) for v in row] for row in matrix]
    n, det = len(m), 1.0
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if m[pivot][col] == 0:
            return 0.0
        if pivot != col:
            m[col], m[pivot] = m[pivot], m[col]
            det = -det
        det *= m[col][col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n):
                m[r][c] -= f * m[col][c]
    return det
