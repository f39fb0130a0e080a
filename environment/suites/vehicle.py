"""Vehicle control: doors, pedals, engine, gears, speed, cruise control, fuel, tires, climate and navigation.

Structure that makes data hard: the engine starts only with the brake pedal pressed and every door
locked; gears shift only with the engine running; the car moves only in drive with both brakes released;
cruise control needs the car already at speed; refuelling needs the engine off. A destination is reached
only through a city's zip code and then its coordinates.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Literal

from hardgen.environment.base import Dependency, Suite, ToolError
from hardgen.environment.registry import register_suite

DoorChoice = Literal["all", "driver", "passenger", "rear_left", "rear_right"]
Tire = Literal["front_left", "front_right", "rear_left", "rear_right"]
TireChoice = Literal["all", "front_left", "front_right", "rear_left", "rear_right"]
Gear = Literal["P", "R", "N", "D"]

_CRUISE_MIN_KMH = 40.0
_CRUISE_MAX_KMH = 180.0
_MAX_SPEED_KMH = 200.0
_MAX_REVERSE_KMH = 20.0
_MIN_START_VOLTAGE = 11.8
_ROAD_FACTOR = 1.25  # roads are longer than the great-circle distance
_AVERAGE_SPEED_KMH = 80.0
_LITERS_PER_GALLON = 3.785411784


@register_suite
class VehicleSuite(Suite):
    name = "vehicle"
    domain = "vehicle control"
    description = "Control a car: doors, brakes, engine, gears, cruise control, fuel, tires and navigation."
    dependencies = (
        # starting and driving
        Dependency("lock_doors", "start_engine", "prerequisite"),
        Dependency("press_brake_pedal", "start_engine", "prerequisite"),
        Dependency("press_brake_pedal", "release_brake_pedal", "prerequisite"),
        Dependency("start_engine", "stop_engine", "prerequisite"),
        Dependency("start_engine", "shift_gear", "prerequisite"),
        Dependency("start_engine", "accelerate_vehicle", "prerequisite"),
        Dependency("shift_gear", "accelerate_vehicle", "prerequisite"),
        Dependency("set_parking_brake", "accelerate_vehicle", "prerequisite"),
        Dependency("release_brake_pedal", "accelerate_vehicle", "prerequisite"),
        Dependency("start_engine", "set_cruise_control", "prerequisite"),
        Dependency("accelerate_vehicle", "set_cruise_control", "prerequisite"),
        Dependency("set_cruise_control", "cancel_cruise_control", "prerequisite"),
        Dependency("start_engine", "set_climate_control", "prerequisite"),
        Dependency("stop_engine", "fill_fuel_tank", "prerequisite"),
        # navigation: city -> zip code -> coordinates -> destination
        Dependency("nav_find_zipcode", "nav_get_coordinates", "value", "zipcode", "zipcode"),
        Dependency("nav_find_zipcode", "estimate_drive_distance", "value", "zipcode", "from_zipcode"),
        Dependency("nav_find_zipcode", "estimate_drive_distance", "value", "zipcode", "to_zipcode"),
        Dependency("nav_get_current_location", "estimate_drive_distance", "value", "zipcode", "from_zipcode"),
        Dependency("nav_get_current_location", "nav_get_coordinates", "value", "zipcode", "zipcode"),
        Dependency("nav_get_coordinates", "nav_set_destination", "value", "latitude", "latitude"),
        Dependency("nav_get_coordinates", "nav_set_destination", "value", "longitude", "longitude"),
        Dependency("estimate_drive_distance", "check_fuel_range", "value", "distance_km", "distance_km"),
        Dependency("nav_set_destination", "check_fuel_range", "value", "distance_km", "distance_km"),
        Dependency("check_fuel_range", "fill_fuel_tank", "value", "shortfall_liters", "liters"),
        Dependency("check_tire_pressure", "inflate_tire", "value", "tires[].tire", "tire"),
    )

    # State (public attributes, set from data/vehicle.json).
    vehicle_info: dict[str, Any]
    engine_running: bool
    gear: str
    speed_kmh: float
    brake_pedal: dict[str, Any]
    parking_brake_engaged: bool
    doors: dict[str, str]
    fuel: dict[str, Any]
    battery: dict[str, Any]
    tires: dict[str, float]
    tire_psi_range: dict[str, float]
    headlights: str
    climate: dict[str, Any]
    cruise_control: dict[str, Any]
    navigation: dict[str, Any]
    location: dict[str, Any]
    cities: dict[str, dict[str, Any]]

    # -------------------------------------------------------------- helpers (private: not tools)

    def _require_engine(self, action: str) -> None:
        if not self.engine_running:
            raise ToolError(f"The engine is off: start the engine before you {action}.", "precondition")

    def _require_stationary(self, action: str) -> None:
        if self.speed_kmh > 0:
            raise ToolError(
                f"The vehicle is moving at {self.speed_kmh:g} km/h: stop before you {action}.", "conflict"
            )

    def _range_km(self) -> float:
        return round(self.fuel["liters"] / self.fuel["consumption_l_per_100km"] * 100, 1)

    def _place(self, zipcode: str) -> tuple[str, dict[str, Any]]:
        for city, info in self.cities.items():
            if info["zipcode"] == zipcode.strip():
                return city, info
        raise ToolError(f"No place has zip code {zipcode!r}.", "not_found")

    @staticmethod
    def _road_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
        phi1, phi2 = math.radians(lat1), math.radians(lat2)
        dphi, dlmb = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
        a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
        return round(2 * 6371.0 * math.asin(math.sqrt(a)) * _ROAD_FACTOR, 1)

    # -------------------------------------------------------------- status

    def vehicle_status(self) -> dict[str, Any]:
        """Show the vehicle's current state at a glance.

        Returns:
            Engine, gear, speed, brakes, door locks, fuel, battery, lights, climate and cruise control.
        """
        return {
            "model": self.vehicle_info["model"],
            "engine_running": self.engine_running,
            "gear": self.gear,
            "speed_kmh": self.speed_kmh,
            "brake_pressed": self.brake_pedal["pressed"],
            "parking_brake_engaged": self.parking_brake_engaged,
            "doors": dict(self.doors),
            "fuel_liters": self.fuel["liters"],
            "battery_voltage": self.battery["voltage"],
            "headlights": self.headlights,
            "climate": dict(self.climate),
            "cruise_control": dict(self.cruise_control),
            "destination": copy.deepcopy(self.navigation["destination"]),
        }

    # -------------------------------------------------------------- doors and pedals

    def lock_doors(self, door: DoorChoice = "all") -> dict[str, Any]:
        """Lock one door or all doors.

        Args:
            door: Which door to lock, or "all".

        Returns:
            The lock state of every door and whether all are locked.
        """
        for name in self.doors if door == "all" else [door]:
            self.doors[name] = "locked"
        return {"doors": dict(self.doors), "all_locked": all(s == "locked" for s in self.doors.values())}

    def unlock_doors(self, door: DoorChoice = "all") -> dict[str, Any]:
        """Unlock one door or all doors; only while the vehicle is standing still.

        Args:
            door: Which door to unlock, or "all".

        Returns:
            The lock state of every door and whether all are locked.
        """
        self._require_stationary("unlock the doors")
        for name in self.doors if door == "all" else [door]:
            self.doors[name] = "unlocked"
        return {"doors": dict(self.doors), "all_locked": all(s == "locked" for s in self.doors.values())}

    def press_brake_pedal(self, force_percent: int = 100) -> dict[str, Any]:
        """Press the brake pedal; while moving this slows the car and cancels cruise control.

        Args:
            force_percent: How hard to press, 1 to 100; 100 brings a moving car to a stop.

        Returns:
            Whether the pedal is pressed, the force and the resulting speed.
        """
        if not 1 <= force_percent <= 100:
            raise ToolError("The brake force must be between 1 and 100 percent.", "invalid")
        self.brake_pedal = {"pressed": True, "force_percent": force_percent}
        if self.speed_kmh > 0:
            self.speed_kmh = round(self.speed_kmh * (1 - force_percent / 100), 1)
            self.cruise_control = {"active": False, "speed_kmh": None}
        return {"brake_pressed": True, "force_percent": force_percent, "speed_kmh": self.speed_kmh}

    def release_brake_pedal(self) -> dict[str, Any]:
        """Release the brake pedal.

        Returns:
            Whether the pedal is pressed (false afterwards).
        """
        if not self.brake_pedal["pressed"]:
            raise ToolError("The brake pedal is not pressed.", "precondition")
        self.brake_pedal = {"pressed": False, "force_percent": 0}
        return {"brake_pressed": False}

    def set_parking_brake(self, engaged: bool) -> dict[str, Any]:
        """Engage or release the parking brake; it can be engaged only while standing still.

        Args:
            engaged: True to engage the parking brake, false to release it.

        Returns:
            Whether the parking brake is engaged.
        """
        if engaged:
            self._require_stationary("engage the parking brake")
        self.parking_brake_engaged = engaged
        return {"parking_brake_engaged": engaged}

    # -------------------------------------------------------------- engine and driving

    def start_engine(self) -> dict[str, Any]:
        """Start the engine. Every door must be locked and the brake pedal pressed.

        Returns:
            Whether the engine runs, the gear, the fuel left and the battery voltage.
        """
        if self.engine_running:
            raise ToolError("The engine is already running.", "conflict")
        unlocked = [d for d, s in self.doors.items() if s != "locked"]
        if unlocked:
            raise ToolError(
                f"Lock every door before starting; unlocked: {', '.join(unlocked)}.", "precondition"
            )
        if not self.brake_pedal["pressed"]:
            raise ToolError("Press the brake pedal before starting the engine.", "precondition")
        if self.fuel["liters"] <= 0:
            raise ToolError("The fuel tank is empty.", "failed")
        if self.battery["voltage"] < _MIN_START_VOLTAGE:
            raise ToolError(f"The battery is too weak to start ({self.battery['voltage']} V).", "failed")
        self.engine_running = True
        self.gear = "P"
        return {
            "engine_running": True,
            "gear": self.gear,
            "fuel_liters": self.fuel["liters"],
            "battery_voltage": self.battery["voltage"],
        }

    def stop_engine(self) -> dict[str, Any]:
        """Stop the engine; the vehicle must be standing still. The gear goes to P.

        Returns:
            Whether the engine runs (false afterwards) and the gear.
        """
        if not self.engine_running:
            raise ToolError("The engine is not running.", "precondition")
        self._require_stationary("stop the engine")
        self.engine_running = False
        self.gear = "P"
        self.cruise_control = {"active": False, "speed_kmh": None}
        self.climate = {**self.climate, "mode": "off", "fan_speed": 0, "ac_on": False}
        return {"engine_running": False, "gear": self.gear}

    def shift_gear(self, gear: Gear) -> dict[str, Any]:
        """Shift the automatic gearbox; needs the engine running, and P or R only while standing still.

        Args:
            gear: P (park), R (reverse), N (neutral) or D (drive).

        Returns:
            The previous and the new gear.
        """
        self._require_engine("shift gears")
        if gear in ("P", "R") and gear != self.gear:
            self._require_stationary(f"shift into {gear}")
        previous, self.gear = self.gear, gear
        return {"previous_gear": previous, "gear": gear}

    def accelerate_vehicle(self, target_speed_kmh: float) -> dict[str, Any]:
        """Drive off or speed up to a target speed.

        The engine must run, the gear must be D (or R, up to 20 km/h), and both the brake pedal and the
        parking brake must be released.

        Args:
            target_speed_kmh: The speed to reach in km/h, above the current speed and at most 200.

        Returns:
            The new speed and the gear.
        """
        self._require_engine("drive")
        if self.gear not in ("D", "R"):
            raise ToolError(f"The gear is {self.gear}: shift into D (or R) to drive.", "precondition")
        if self.parking_brake_engaged:
            raise ToolError("The parking brake is engaged: release it to drive.", "precondition")
        if self.brake_pedal["pressed"]:
            raise ToolError("The brake pedal is pressed: release it to drive.", "precondition")
        limit = _MAX_REVERSE_KMH if self.gear == "R" else _MAX_SPEED_KMH
        if not self.speed_kmh < target_speed_kmh <= limit:
            raise ToolError(
                f"The target speed must be above the current {self.speed_kmh:g} km/h and at most "
                f"{limit:g} km/h in {self.gear}.",
                "invalid",
            )
        self.speed_kmh = float(target_speed_kmh)
        return {"speed_kmh": self.speed_kmh, "gear": self.gear}

    def set_cruise_control(self, speed_kmh: float) -> dict[str, Any]:
        """Turn on cruise control at a set speed; the car must already be driving at 40 km/h or more.

        Args:
            speed_kmh: The speed to hold, 40 to 180 km/h.

        Returns:
            Whether cruise control is active and the speed it holds.
        """
        self._require_engine("use cruise control")
        if self.speed_kmh < _CRUISE_MIN_KMH:
            raise ToolError(
                f"Cruise control engages only at {_CRUISE_MIN_KMH:g} km/h or more; the car is at "
                f"{self.speed_kmh:g} km/h. Accelerate first.",
                "precondition",
            )
        if not _CRUISE_MIN_KMH <= speed_kmh <= _CRUISE_MAX_KMH:
            raise ToolError(
                f"The cruise speed must be between {_CRUISE_MIN_KMH:g} and {_CRUISE_MAX_KMH:g} km/h.",
                "invalid",
            )
        self.cruise_control = {"active": True, "speed_kmh": float(speed_kmh)}
        self.speed_kmh = float(speed_kmh)
        return {"active": True, "speed_kmh": self.speed_kmh}

    def cancel_cruise_control(self) -> dict[str, Any]:
        """Turn cruise control off; the car keeps its current speed.

        Returns:
            Whether cruise control is active (false afterwards) and the current speed.
        """
        if not self.cruise_control["active"]:
            raise ToolError("Cruise control is not active.", "precondition")
        self.cruise_control = {"active": False, "speed_kmh": None}
        return {"active": False, "speed_kmh": self.speed_kmh}

    # -------------------------------------------------------------- tires, fuel, comfort

    def check_tire_pressure(self, tire: TireChoice = "all") -> dict[str, Any]:
        """Read the tire pressure sensors.

        Args:
            tire: Which tire to read, or "all".

        Returns:
            Each tire's pressure in psi with a status (low, ok, high), the recommended range, and
            whether all the tires read are ok.
        """
        low, high = self.tire_psi_range["min"], self.tire_psi_range["max"]
        readings = []
        for name in self.tires if tire == "all" else [tire]:
            psi = self.tires[name]
            status = "low" if psi < low else "high" if psi > high else "ok"
            readings.append({"tire": name, "pressure_psi": psi, "status": status})
        return {
            "tires": readings,
            "recommended_psi": {"min": low, "max": high},
            "all_ok": all(r["status"] == "ok" for r in readings),
        }

    def inflate_tire(self, tire: Tire, pressure_psi: float) -> dict[str, Any]:
        """Inflate or deflate one tire to a pressure; only while the vehicle is standing still.

        Args:
            tire: The tire to adjust.
            pressure_psi: The pressure to set, 20 to 50 psi.

        Returns:
            The tire's previous and new pressure and its status.
        """
        self._require_stationary("adjust the tires")
        if not 20 <= pressure_psi <= 50:
            raise ToolError("The tire pressure must be between 20 and 50 psi.", "invalid")
        previous = self.tires[tire]
        self.tires[tire] = round(float(pressure_psi), 1)
        low, high = self.tire_psi_range["min"], self.tire_psi_range["max"]
        new = self.tires[tire]
        status = "low" if new < low else "high" if new > high else "ok"
        return {"tire": tire, "previous_psi": previous, "pressure_psi": new, "status": status}

    def check_fuel_level(self, unit: Literal["liters", "gallons"] = "liters") -> dict[str, Any]:
        """Read the fuel gauge.

        Args:
            unit: Unit for the fuel amounts.

        Returns:
            The fuel in the tank, the tank capacity, the percentage full and the range in km.
        """
        factor = 1.0 if unit == "liters" else 1 / _LITERS_PER_GALLON
        return {
            "fuel": round(self.fuel["liters"] * factor, 2),
            "capacity": round(self.fuel["capacity_liters"] * factor, 2),
            "unit": unit,
            "percent_full": round(100 * self.fuel["liters"] / self.fuel["capacity_liters"], 1),
            "range_km": self._range_km(),
        }

    def fill_fuel_tank(self, liters: float) -> dict[str, Any]:
        """Refuel; the engine must be off and the fuel must fit in the tank.

        Args:
            liters: How many liters to add; more than 0.

        Returns:
            The new fuel level in liters and the cost in US dollars.
        """
        if self.engine_running:
            raise ToolError("Stop the engine before refuelling.", "precondition")
        if liters <= 0:
            raise ToolError("The amount of fuel must be positive.", "invalid")
        free = round(self.fuel["capacity_liters"] - self.fuel["liters"], 2)
        if liters > free:
            raise ToolError(f"Only {free:g} liters fit in the tank.", "invalid")
        self.fuel["liters"] = round(self.fuel["liters"] + liters, 2)
        cost = round(liters * self.fuel["price_per_liter"], 2)
        return {"fuel_liters": self.fuel["liters"], "added_liters": liters, "cost": cost, "currency": "USD"}

    def set_climate_control(
        self,
        temperature_c: float,
        fan_speed: int = 3,
        mode: Literal["auto", "cool", "heat", "defrost"] = "auto",
        ac_on: bool = True,
    ) -> dict[str, Any]:
        """Set the cabin climate control; it runs only with the engine on.

        Args:
            temperature_c: Target cabin temperature, 16 to 30 degrees Celsius.
            fan_speed: Fan level, 0 to 7.
            mode: Climate mode.
            ac_on: Whether the air conditioning compressor runs.

        Returns:
            The climate settings now in force.
        """
        self._require_engine("use climate control")
        if not 16 <= temperature_c <= 30:
            raise ToolError("The temperature must be between 16 and 30 °C.", "invalid")
        if not 0 <= fan_speed <= 7:
            raise ToolError("The fan speed must be between 0 and 7.", "invalid")
        self.climate = {
            "temperature_c": float(temperature_c),
            "fan_speed": fan_speed,
            "mode": mode,
            "ac_on": ac_on,
        }
        return dict(self.climate)

    def set_headlights(self, mode: Literal["off", "on", "auto", "high_beam"]) -> dict[str, Any]:
        """Switch the headlights.

        Args:
            mode: The headlight mode.

        Returns:
            The previous and the new headlight mode.
        """
        if mode == self.headlights:
            raise ToolError(f"The headlights are already {mode}.", "conflict")
        previous, self.headlights = self.headlights, mode
        return {"previous_mode": previous, "mode": mode}

    # -------------------------------------------------------------- navigation

    def nav_find_zipcode(self, city: str) -> dict[str, Any]:
        """Look up a city's zip code in the navigation system.

        Args:
            city: The city's name, for example "Stonebrook".

        Returns:
            The city and its zip code.
        """
        for name, info in self.cities.items():
            if name.lower() == city.strip().lower():
                return {"city": name, "zipcode": info["zipcode"]}
        raise ToolError(f"The navigation system knows no city named {city!r}.", "not_found")

    def nav_get_coordinates(self, zipcode: str) -> dict[str, Any]:
        """Get the GPS coordinates of a zip code.

        Args:
            zipcode: A five-digit zip code.

        Returns:
            The place's latitude and longitude in decimal degrees.
        """
        city, info = self._place(zipcode)
        return {
            "zipcode": info["zipcode"],
            "city": city,
            "latitude": info["latitude"],
            "longitude": info["longitude"],
        }

    def nav_get_current_location(self) -> dict[str, Any]:
        """Where the vehicle is now, from GPS.

        Returns:
            The current city, zip code, latitude and longitude.
        """
        return dict(self.location)

    def nav_set_destination(self, latitude: float, longitude: float) -> dict[str, Any]:
        """Set the navigation destination by GPS coordinates and plan the route from here.

        Args:
            latitude: Destination latitude in decimal degrees, -90 to 90.
            longitude: Destination longitude in decimal degrees, -180 to 180.

        Returns:
            The destination (with its city when known), the road distance in km and the estimated time.
        """
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ToolError("Coordinates out of range: latitude -90..90, longitude -180..180.", "invalid")
        here = self.location
        distance = self._road_km(here["latitude"], here["longitude"], latitude, longitude)
        if distance < 1:
            raise ToolError("The destination is where the vehicle already is.", "invalid")
        city = next(
            (n for n, c in self.cities.items() if (c["latitude"], c["longitude"]) == (latitude, longitude)),
            None,
        )
        destination = {"latitude": latitude, "longitude": longitude, "city": city}
        self.navigation = {"destination": destination}
        return {
            "destination": dict(destination),
            "distance_km": distance,
            "eta_minutes": round(distance / _AVERAGE_SPEED_KMH * 60),
        }

    def estimate_drive_distance(self, from_zipcode: str, to_zipcode: str) -> dict[str, Any]:
        """Estimate the road distance and driving time between two zip codes.

        Args:
            from_zipcode: Zip code of the start.
            to_zipcode: Zip code of the end.

        Returns:
            The road distance in km and the driving time in minutes at an average 80 km/h.
        """
        _, a = self._place(from_zipcode)
        _, b = self._place(to_zipcode)
        if a is b:
            raise ToolError("Start and end are the same place.", "invalid")
        distance = self._road_km(a["latitude"], a["longitude"], b["latitude"], b["longitude"])
        return {
            "from_zipcode": a["zipcode"],
            "to_zipcode": b["zipcode"],
            "distance_km": distance,
            "duration_minutes": round(distance / _AVERAGE_SPEED_KMH * 60),
        }

    def check_fuel_range(self, distance_km: float) -> dict[str, Any]:
        """Check whether the fuel in the tank is enough to drive a distance.

        Args:
            distance_km: The distance to drive in km; more than 0.

        Returns:
            The current range, whether the distance can be reached, the fuel it needs and how many
            liters are missing (0 when none).
        """
        if distance_km <= 0:
            raise ToolError("The distance must be positive.", "invalid")
        needed = round(distance_km * self.fuel["consumption_l_per_100km"] / 100, 2)
        shortfall = round(max(0.0, needed - self.fuel["liters"]), 2)
        return {
            "range_km": self._range_km(),
            "can_reach": shortfall == 0,
            "fuel_needed_liters": needed,
            "shortfall_liters": shortfall,
        }
