"""Cases for the vehicle suite (default state: engine off in P, parking brake on, front doors unlocked)."""

from __future__ import annotations

from typing import Any

from tests.suite_cases import Case

Setup = tuple[tuple[str, dict[str, Any]], ...]

START: Setup = (("lock_doors", {}), ("press_brake_pedal", {}), ("start_engine", {}))
READY: Setup = (
    *START,
    ("shift_gear", {"gear": "D"}),
    ("set_parking_brake", {"engaged": False}),
    ("release_brake_pedal", {}),
)
DRIVING: Setup = (*READY, ("accelerate_vehicle", {"target_speed_kmh": 60}))
STONEBROOK = {"latitude": 46.8721, "longitude": -113.994}

CASES: list[Case] = [
    # status
    Case(
        "vehicle_status",
        {},
        True,
        expect={"engine_running": False, "gear": "P", "parking_brake_engaged": True},
    ),
    Case("vehicle_status", {"verbose": True}, False, "env:unexpected_argument"),
    # doors
    Case("lock_doors", {}, True, expect={"all_locked": True}),
    Case("lock_doors", {"door": "driver"}, True, expect={"all_locked": False}, id="one-door"),
    Case("lock_doors", {"door": "trunk"}, False, "env:invalid_value"),
    Case("unlock_doors", {"door": "rear_left"}, True, expect={"all_locked": False}),
    Case("unlock_doors", {}, False, "tool:conflict", setup=DRIVING, id="while-moving"),
    # pedals and parking brake
    Case("press_brake_pedal", {}, True, expect={"brake_pressed": True, "speed_kmh": 0.0}),
    Case(
        "press_brake_pedal",
        {"force_percent": 50},
        True,
        setup=DRIVING,
        expect={"speed_kmh": 30.0},
        id="slows",
    ),
    Case("press_brake_pedal", {"force_percent": 0}, False, "tool:invalid"),
    Case(
        "release_brake_pedal", {}, True, setup=(("press_brake_pedal", {}),), expect={"brake_pressed": False}
    ),
    Case("release_brake_pedal", {}, False, "tool:precondition"),
    Case("set_parking_brake", {"engaged": False}, True, expect={"parking_brake_engaged": False}),
    Case("set_parking_brake", {"engaged": True}, False, "tool:conflict", setup=DRIVING, id="while-moving"),
    # engine
    Case("start_engine", {}, True, setup=START[:2], expect={"engine_running": True, "gear": "P"}),
    Case(
        "start_engine",
        {},
        False,
        "tool:precondition",
        setup=(("press_brake_pedal", {}),),
        id="doors-unlocked",
    ),
    Case("start_engine", {}, False, "tool:precondition", setup=(("lock_doors", {}),), id="brake-not-pressed"),
    Case("start_engine", {}, False, "tool:conflict", setup=START, id="already-running"),
    Case("stop_engine", {}, True, setup=START, expect={"engine_running": False, "gear": "P"}),
    Case("stop_engine", {}, False, "tool:precondition"),
    Case("stop_engine", {}, False, "tool:conflict", setup=DRIVING, id="while-moving"),
    # gears and driving
    Case("shift_gear", {"gear": "D"}, True, setup=START, expect={"previous_gear": "P", "gear": "D"}),
    Case("shift_gear", {"gear": "D"}, False, "tool:precondition"),
    Case("shift_gear", {"gear": "P"}, False, "tool:conflict", setup=DRIVING, id="park-while-moving"),
    Case("accelerate_vehicle", {"target_speed_kmh": 50}, True, setup=READY, expect={"speed_kmh": 50.0}),
    Case("accelerate_vehicle", {"target_speed_kmh": 50}, False, "tool:precondition", id="engine-off"),
    Case(
        "accelerate_vehicle", {"target_speed_kmh": 50}, False, "tool:precondition", setup=START, id="in-park"
    ),
    Case(
        "accelerate_vehicle",
        {"target_speed_kmh": 50},
        False,
        "tool:precondition",
        setup=(*START, ("shift_gear", {"gear": "D"}), ("release_brake_pedal", {})),
        id="parking-brake",
    ),
    Case(
        "accelerate_vehicle",
        {"target_speed_kmh": 50},
        False,
        "tool:precondition",
        setup=READY[:-1],
        id="brake",
    ),
    Case("accelerate_vehicle", {"target_speed_kmh": 250}, False, "tool:invalid", setup=READY, id="too-fast"),
    Case(
        "set_cruise_control",
        {"speed_kmh": 90},
        True,
        setup=DRIVING,
        expect={"active": True, "speed_kmh": 90.0},
    ),
    Case("set_cruise_control", {"speed_kmh": 90}, False, "tool:precondition", id="engine-off"),
    Case(
        "set_cruise_control", {"speed_kmh": 90}, False, "tool:precondition", setup=START, id="standing-still"
    ),
    Case("set_cruise_control", {"speed_kmh": 200}, False, "tool:invalid", setup=DRIVING, id="too-fast"),
    Case(
        "cancel_cruise_control",
        {},
        True,
        setup=(*DRIVING, ("set_cruise_control", {"speed_kmh": 100})),
        expect={"active": False, "speed_kmh": 100.0},
    ),
    Case("cancel_cruise_control", {}, False, "tool:precondition", setup=DRIVING),
    # tires
    Case("check_tire_pressure", {}, True, expect={"all_ok": False}),
    Case(
        "check_tire_pressure",
        {"tire": "rear_left"},
        True,
        expect={"tires": [{"tire": "rear_left", "pressure_psi": 27.0, "status": "low"}]},
        id="one-tire",
    ),
    Case("check_tire_pressure", {"tire": "spare"}, False, "env:invalid_value"),
    Case(
        "inflate_tire",
        {"tire": "rear_left", "pressure_psi": 34},
        True,
        expect={"previous_psi": 27.0, "pressure_psi": 34.0, "status": "ok"},
    ),
    Case("inflate_tire", {"tire": "rear_left", "pressure_psi": 60}, False, "tool:invalid"),
    Case(
        "inflate_tire",
        {"tire": "rear_left", "pressure_psi": 34},
        False,
        "tool:conflict",
        setup=DRIVING,
        id="moving",
    ),
    # fuel
    Case("check_fuel_level", {}, True, expect={"fuel": 14.0, "capacity": 55.0, "range_km": 194.4}),
    Case(
        "check_fuel_level", {"unit": "gallons"}, True, expect={"fuel": 3.7, "unit": "gallons"}, id="gallons"
    ),
    Case("check_fuel_level", {"unit": "kg"}, False, "env:invalid_value"),
    Case("fill_fuel_tank", {"liters": 20}, True, expect={"fuel_liters": 34.0, "cost": 37.8}),
    Case("fill_fuel_tank", {"liters": 50}, False, "tool:invalid", id="overflow"),
    Case("fill_fuel_tank", {"liters": 20}, False, "tool:precondition", setup=START, id="engine-running"),
    Case("check_fuel_range", {"distance_km": 100}, True, expect={"can_reach": True, "shortfall_liters": 0}),
    Case(
        "check_fuel_range",
        {"distance_km": 600},
        True,
        expect={"can_reach": False, "fuel_needed_liters": 43.2, "shortfall_liters": 29.2},
        id="too-far",
    ),
    Case("check_fuel_range", {"distance_km": 0}, False, "tool:invalid"),
    # comfort
    Case(
        "set_climate_control",
        {"temperature_c": 22, "mode": "heat"},
        True,
        setup=START,
        expect={"temperature_c": 22.0, "mode": "heat", "fan_speed": 3},
    ),
    Case("set_climate_control", {"temperature_c": 22}, False, "tool:precondition"),
    Case("set_climate_control", {"temperature_c": 35}, False, "tool:invalid", setup=START, id="too-hot"),
    Case("set_headlights", {"mode": "on"}, True, expect={"previous_mode": "off", "mode": "on"}),
    Case("set_headlights", {"mode": "off"}, False, "tool:conflict"),
    # navigation
    Case(
        "nav_find_zipcode", {"city": "stonebrook "}, True, expect={"city": "Stonebrook", "zipcode": "74532"}
    ),
    Case("nav_find_zipcode", {"city": "Atlantis"}, False, "tool:not_found"),
    Case("nav_get_coordinates", {"zipcode": "74532"}, True, expect=STONEBROOK),
    Case("nav_get_coordinates", {"zipcode": "00000"}, False, "tool:not_found"),
    Case("nav_get_current_location", {}, True, expect={"city": "Rivermist", "zipcode": "83214"}),
    Case("nav_get_current_location", {"precise": True}, False, "env:unexpected_argument"),
    Case(
        "nav_set_destination",
        STONEBROOK,
        True,
        expect={"destination": {**STONEBROOK, "city": "Stonebrook"}, "distance_km": 855.6},
    ),
    Case("nav_set_destination", {"latitude": 95.0, "longitude": 10.0}, False, "tool:invalid"),
    Case(
        "nav_set_destination", {"latitude": 45.5231, "longitude": -122.6765}, False, "tool:invalid", id="here"
    ),
    Case(
        "estimate_drive_distance",
        {"from_zipcode": "83214", "to_zipcode": "74532"},
        True,
        expect={"distance_km": 855.6, "duration_minutes": 642},
    ),
    Case(
        "estimate_drive_distance", {"from_zipcode": "83214", "to_zipcode": "99999"}, False, "tool:not_found"
    ),
    Case(
        "estimate_drive_distance",
        {"from_zipcode": "83214", "to_zipcode": "83214"},
        False,
        "tool:invalid",
        id="same",
    ),
]
