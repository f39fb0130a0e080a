"""Cases for the maths suite (default state: memory holds tax_rate, monthly_budget, loan_principal, ...)."""

from __future__ import annotations

from tests.suite_cases import Case

CASES: list[Case] = [
    # arithmetic
    Case("math_add", {"a": 0.1, "b": 0.2}, True, expect={"result": 0.3}, id="no-float-noise"),
    Case("math_add", {"a": 1e308, "b": 1e308}, False, "tool:invalid", id="overflow"),
    Case("math_add", {"a": "one", "b": 2}, False, "env:wrong_type"),
    Case("math_subtract", {"a": 1250.5, "b": 310.25}, True, expect={"result": 940.25}),
    Case("math_subtract", {"a": -1e308, "b": 1e308}, False, "tool:invalid"),
    Case("math_multiply", {"a": 18500, "b": 1.045}, True, expect={"result": 19332.5}),
    Case("math_multiply", {"a": 1e200, "b": 1e200}, False, "tool:invalid"),
    Case("math_divide", {"a": 10, "b": 4}, True, expect={"result": 2.5}),
    Case("math_divide", {"a": 10, "b": 0}, False, "tool:invalid"),
    Case("math_power", {"base": 1.05, "exponent": 3}, True, expect={"result": 1.157625}),
    Case("math_power", {"base": -8, "exponent": 0.5}, False, "tool:invalid", id="complex"),
    Case("math_power", {"base": 10, "exponent": 400}, False, "tool:invalid", id="overflow"),
    Case("math_sqrt", {"x": 144}, True, expect={"result": 12}),
    Case("math_sqrt", {"x": -4}, False, "tool:invalid"),
    Case("math_log", {"x": 1000, "base": 10}, True, expect={"result": 3}),
    Case("math_log", {"x": 1}, True, expect={"result": 0}, id="natural"),
    Case("math_log", {"x": 0}, False, "tool:invalid"),
    Case("math_log", {"x": 8, "base": 1}, False, "tool:invalid", id="base-one"),
    Case("math_factorial", {"n": 10}, True, expect={"result": 3628800}),
    Case("math_factorial", {"n": -3}, False, "tool:invalid"),
    Case("math_factorial", {"n": 4.5}, False, "env:wrong_type"),
    Case("math_gcd", {"a": 84, "b": 36}, True, expect={"result": 12}),
    Case("math_gcd", {"a": 0, "b": 0}, False, "tool:invalid"),
    Case("math_lcm", {"a": 4, "b": 6}, True, expect={"result": 12}),
    Case("math_lcm", {"a": 4, "b": 0}, False, "tool:invalid"),
    Case("math_percentage", {"part": 45, "whole": 180}, True, expect={"result": 25}),
    Case("math_percentage", {"part": 45, "whole": 0}, False, "tool:invalid"),
    Case("math_round", {"x": 2.675, "decimals": 2}, True, expect={"result": 2.68}, id="half-up"),
    Case("math_round", {"x": -2.5}, True, expect={"result": -3}, id="half-away-from-zero"),
    Case("math_round", {"x": 3.14159, "decimals": 20}, False, "tool:invalid"),
    # statistics and algebra
    Case("math_mean", {"numbers": [4, 8, 15, 16, 23, 42]}, True, expect={"result": 18}),
    Case("math_mean", {"numbers": []}, False, "tool:invalid"),
    Case("math_stdev", {"numbers": [2, 4, 4, 4, 5, 5, 7, 9], "population": True}, True, expect={"result": 2}),
    Case(
        "math_stdev",
        {"numbers": [2, 4, 4, 4, 5, 5, 7, 9]},
        True,
        expect={"result": 2.1380899353},
        id="sample",
    ),
    Case("math_stdev", {"numbers": [7]}, False, "tool:invalid"),
    Case(
        "math_solve_quadratic", {"a": 1, "b": -3, "c": 2}, True, expect={"discriminant": 1, "roots": [1, 2]}
    ),
    Case("math_solve_quadratic", {"a": 1, "b": 0, "c": 1}, True, expect={"roots": []}, id="no-real-roots"),
    Case("math_solve_quadratic", {"a": 0, "b": 2, "c": 1}, False, "tool:invalid"),
    Case("math_prime_factors", {"n": 360}, True, expect={"factors": [2, 2, 2, 3, 3, 5], "is_prime": False}),
    Case("math_prime_factors", {"n": 97}, True, expect={"factors": [97], "is_prime": True}, id="prime"),
    Case("math_prime_factors", {"n": 1}, False, "tool:invalid"),
    Case(
        "math_convert_unit",
        {"value": 100, "from_unit": "F", "to_unit": "C"},
        True,
        expect={"result": 37.7777777778},
    ),
    Case(
        "math_convert_unit",
        {"value": 60, "from_unit": "mph", "to_unit": "km/h"},
        True,
        expect={"result": 96.56064},
    ),
    Case(
        "math_convert_unit",
        {"value": 2, "from_unit": "GiB", "to_unit": "MB"},
        True,
        expect={"result": 2147.483648},
    ),
    Case("math_convert_unit", {"value": 5, "from_unit": "km", "to_unit": "kg"}, False, "tool:invalid"),
    Case("math_convert_unit", {"value": 5, "from_unit": "furlong", "to_unit": "m"}, False, "tool:not_found"),
    # matrices
    Case(
        "math_matrix_multiply",
        {"a": [[1, 2], [3, 4]], "b": [[5, 6], [7, 8]]},
        True,
        expect={"result": [[19, 22], [43, 50]]},
    ),
    Case("math_matrix_multiply", {"a": [[1, 2, 3]], "b": [[1, 2]]}, False, "tool:invalid", id="shapes"),
    Case("math_matrix_multiply", {"a": [[1, 2], [3]], "b": [[1], [2]]}, False, "tool:invalid", id="ragged"),
    Case(
        "math_matrix_determinant", {"matrix": [[2, 0, 1], [1, 3, 2], [1, 1, 2]]}, True, expect={"result": 6}
    ),
    Case("math_matrix_determinant", {"matrix": [[1, 2, 3], [4, 5, 6]]}, False, "tool:invalid"),
    # memory and history
    Case("math_store_result", {"key": "monthly_rate", "value": 0.004167}, True, expect={"value": 0.004167}),
    Case(
        "math_store_result",
        {"key": "tax_rate", "value": 0.09, "overwrite": True},
        True,
        expect={"value": 0.09},
        id="overwrite",
    ),
    Case("math_store_result", {"key": "tax_rate", "value": 0.09}, False, "tool:conflict"),
    Case("math_store_result", {"key": "tax rate!", "value": 0.09}, False, "tool:invalid"),
    Case("math_recall", {"key": "monthly_budget"}, True, expect={"result": 2400}),
    Case(
        "math_recall",
        {"key": "area"},
        True,
        setup=(
            ("math_multiply", {"a": 3.6, "b": 4.2}),
            ("math_store_result", {"key": "area", "value": 15.12}),
        ),
        expect={"result": 15.12},
        id="stored-earlier",
    ),
    Case("math_recall", {"key": "savings"}, False, "tool:not_found"),
    Case(
        "math_history",
        {"limit": 1},
        True,
        setup=(("math_add", {"a": 2, "b": 3}), ("math_sqrt", {"x": 81})),
        expect={"entries": [{"entry_id": "H2", "operation": "sqrt", "inputs": {"x": 81}, "result": 9}]},
    ),
    Case("math_history", {"limit": 0}, False, "tool:invalid"),
]
