"""Travel booking: cities, airports, fares, travellers, payment cards, bookings and insurance.

Structure that makes data hard: a city name only leads to an airport through its zip code; booking
needs a logged-in session, a registered card with enough balance, a traveller id and two airport codes.
"""

from __future__ import annotations

from typing import Any, Literal

from hardgen.environment.base import Dependency, Suite, ToolError
from hardgen.environment.registry import register_suite

TravelClass = Literal["economy", "business", "first"]
_CLASS_FACTOR = {"economy": 1.0, "business": 2.5, "first": 4.0}
_INSURANCE_PRICE = {"basic": 25.0, "standard": 49.0, "premium": 89.0}


@register_suite
class TravelSuite(Suite):
    name = "travel"
    domain = "travel"
    description = "Book flights between cities, pay with registered cards, manage bookings."
    dependencies = (
        Dependency("get_zipcode", "find_nearest_airport", "value", "zipcode", "zipcode"),
        Dependency("find_nearest_airport", "get_flight_fare", "value", "airport_code", "from_airport"),
        Dependency("find_nearest_airport", "get_flight_fare", "value", "airport_code", "to_airport"),
        Dependency("find_nearest_airport", "book_flight", "value", "airport_code", "from_airport"),
        Dependency("find_nearest_airport", "book_flight", "value", "airport_code", "to_airport"),
        Dependency("find_nearest_airport", "list_routes", "value", "airport_code", "from_airport"),
        Dependency("authenticate_travel", "register_credit_card", "prerequisite"),
        Dependency("authenticate_travel", "list_credit_cards", "prerequisite"),
        Dependency("authenticate_travel", "book_flight", "prerequisite"),
        Dependency("authenticate_travel", "cancel_booking", "prerequisite"),
        Dependency("authenticate_travel", "get_invoice", "prerequisite"),
        Dependency("authenticate_travel", "purchase_insurance", "prerequisite"),
        Dependency("authenticate_travel", "check_in", "prerequisite"),
        Dependency("list_credit_cards", "book_flight", "value", "cards[].card_id", "card_id"),
        Dependency("list_credit_cards", "get_card_balance", "value", "cards[].card_id", "card_id"),
        Dependency("list_credit_cards", "purchase_insurance", "value", "cards[].card_id", "card_id"),
        Dependency("register_credit_card", "book_flight", "value", "card_id", "card_id"),
        Dependency("find_traveler", "book_flight", "value", "traveler_id", "traveler_id"),
        Dependency("add_traveler", "book_flight", "value", "traveler_id", "traveler_id"),
        Dependency("book_flight", "get_booking", "value", "booking_id", "booking_id"),
        Dependency("book_flight", "cancel_booking", "value", "booking_id", "booking_id"),
        Dependency("book_flight", "get_invoice", "value", "booking_id", "booking_id"),
        Dependency("book_flight", "purchase_insurance", "value", "booking_id", "booking_id"),
        Dependency("book_flight", "check_in", "value", "booking_id", "booking_id"),
        Dependency("book_flight", "contact_travel_support", "value", "booking_id", "booking_id"),
    )

    # State: public attributes, set from data/travel.json.
    today: str
    cities: dict[str, dict[str, Any]]
    airports: dict[str, dict[str, Any]]
    routes: dict[str, dict[str, Any]]
    accounts: dict[str, dict[str, Any]]
    session_user: str | None
    cards: dict[str, dict[str, Any]]
    travelers: dict[str, dict[str, Any]]
    bookings: dict[str, dict[str, Any]]
    insurances: dict[str, dict[str, Any]]
    support_tickets: dict[str, dict[str, Any]]
    budget_limit: float | None
    exchange_rates: dict[str, float]
    next_id: int

    # -------------------------------------------------------------- helpers (private: not tools)

    def _require_login(self) -> str:
        if not self.session_user:
            raise ToolError(
                "No active session: authenticate with a username and password first.", "precondition"
            )
        return str(self.session_user)

    def _new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def _airport(self, code: str) -> dict[str, Any]:
        if code not in self.airports:
            raise ToolError(f"Unknown airport code {code!r}.", "not_found")
        return self.airports[code]

    def _booking(self, booking_id: str) -> dict[str, Any]:
        if booking_id not in self.bookings:
            raise ToolError(f"No booking with id {booking_id!r}.", "not_found")
        return self.bookings[booking_id]

    def _own_card(self, card_id: str) -> dict[str, Any]:
        user = self._require_login()
        card = self.cards.get(card_id)
        if card is None or card["owner"] != user:
            raise ToolError(f"Card {card_id!r} is not registered to {user}.", "not_found")
        return card

    # -------------------------------------------------------------- tools

    def authenticate_travel(self, username: str, password: str) -> dict:
        """Log in to the travel booking service.

        Args:
            username: The account's username.
            password: The account's password.

        Returns:
            The logged-in username and a confirmation flag.
        """
        account = self.accounts.get(username)
        if account is None or account["password"] != password:
            raise ToolError("Wrong username or password.", "permission")
        self.session_user = username
        return {"username": username, "authenticated": True}

    def logout_travel(self) -> dict:
        """Log out of the travel booking service.

        Returns:
            Whether a session was closed.
        """
        was = bool(self.session_user)
        self.session_user = None
        return {"logged_out": was}

    def get_zipcode(self, city: str) -> dict:
        """Look up the zip code of a city by its name.

        Args:
            city: The city's name, for example "Rivermist".

        Returns:
            The city and its zip code.
        """
        for name, info in self.cities.items():
            if name.lower() == city.strip().lower():
                return {"city": name, "zipcode": info["zipcode"]}
        raise ToolError(f"No city named {city!r}.", "not_found")

    def get_city_by_zipcode(self, zipcode: str) -> dict:
        """Find which city a zip code belongs to.

        Args:
            zipcode: A five-digit zip code.

        Returns:
            The city's name and country.
        """
        for name, info in self.cities.items():
            if info["zipcode"] == zipcode:
                return {"city": name, "country": info["country"]}
        raise ToolError(f"No city has zip code {zipcode!r}.", "not_found")

    def find_nearest_airport(self, zipcode: str) -> dict:
        """Find the airport nearest to a zip code.

        Args:
            zipcode: The zip code of the place to travel from or to.

        Returns:
            The airport's three-letter code and name.
        """
        for info in self.cities.values():
            if info["zipcode"] == zipcode:
                code = info["airport"]
                return {"airport_code": code, "airport_name": self.airports[code]["name"]}
        raise ToolError(f"Zip code {zipcode!r} is not served by any airport.", "not_found")

    def list_airports(self) -> dict:
        """List every airport the service flies to.

        Returns:
            Airport codes with their names and cities.
        """
        return {
            "airports": [
                {"airport_code": code, "name": a["name"], "city": a["city"]}
                for code, a in self.airports.items()
            ]
        }

    def list_routes(self, from_airport: str) -> dict:
        """List the destinations with direct flights from an airport.

        Args:
            from_airport: Three-letter code of the departure airport.

        Returns:
            Destination airport codes with their distance in kilometres.
        """
        self._airport(from_airport)
        routes = [
            {"to_airport": key.split("-")[1], "distance_km": r["distance_km"]}
            for key, r in self.routes.items()
            if key.startswith(f"{from_airport}-")
        ]
        return {"from_airport": from_airport, "routes": routes}

    def get_flight_fare(
        self, from_airport: str, to_airport: str, travel_class: TravelClass = "economy"
    ) -> dict:
        """Quote the fare of a direct flight between two airports.

        Args:
            from_airport: Three-letter code of the departure airport.
            to_airport: Three-letter code of the arrival airport.
            travel_class: Cabin class.

        Returns:
            The fare in US dollars for one traveller.
        """
        return {
            "from_airport": from_airport,
            "to_airport": to_airport,
            "travel_class": travel_class,
            "fare": self._fare(from_airport, to_airport, travel_class),
            "currency": "USD",
        }

    def _fare(self, from_airport: str, to_airport: str, travel_class: str) -> float:
        self._airport(from_airport)
        self._airport(to_airport)
        route = self.routes.get(f"{from_airport}-{to_airport}") or self.routes.get(
            f"{to_airport}-{from_airport}"
        )
        if route is None:
            raise ToolError(f"No direct flight between {from_airport} and {to_airport}.", "not_found")
        return round(route["base_fare"] * _CLASS_FACTOR[travel_class], 2)

    def register_credit_card(self, card_number: str, expiry: str, holder_name: str) -> dict:
        """Register a payment card to the logged-in account.

        Args:
            card_number: The 16-digit card number.
            expiry: Expiry date as MM/YY.
            holder_name: The name printed on the card.

        Returns:
            The new card's id.
        """
        user = self._require_login()
        digits = card_number.replace(" ", "")
        if len(digits) != 16 or not digits.isdigit():
            raise ToolError("A card number has 16 digits.", "invalid")
        if len(expiry) != 5 or expiry[2] != "/" or not (expiry[:2] + expiry[3:]).isdigit():
            raise ToolError("Expiry must look like MM/YY.", "invalid")
        if any(c["last4"] == digits[-4:] and c["owner"] == user for c in self.cards.values()):
            raise ToolError("This card is already registered.", "conflict")
        card_id = self._new_id("card_")
        self.cards[card_id] = {"owner": user, "holder": holder_name, "last4": digits[-4:], "balance": 2000.0}
        return {"card_id": card_id, "last4": digits[-4:]}

    def list_credit_cards(self) -> dict:
        """List the payment cards registered to the logged-in account.

        Returns:
            Each card's id, holder and last four digits.
        """
        user = self._require_login()
        return {
            "cards": [
                {"card_id": cid, "holder": c["holder"], "last4": c["last4"]}
                for cid, c in self.cards.items()
                if c["owner"] == user
            ]
        }

    def get_card_balance(self, card_id: str) -> dict:
        """Check the available balance of a registered card.

        Args:
            card_id: The card's id, as listed for the account.

        Returns:
            The card's available balance in US dollars.
        """
        card = self.cards.get(card_id)
        if card is None:
            raise ToolError(f"No card with id {card_id!r}.", "not_found")
        return {"card_id": card_id, "balance": card["balance"], "currency": "USD"}

    def find_traveler(self, name: str) -> dict:
        """Find a saved traveller profile by full name.

        Args:
            name: The traveller's full name.

        Returns:
            The traveller's id.
        """
        for tid, t in self.travelers.items():
            if t["name"].lower() == name.strip().lower():
                return {"traveler_id": tid, "name": t["name"]}
        raise ToolError(f"No traveller named {name!r}.", "not_found")

    def add_traveler(self, name: str, passport_number: str, date_of_birth: str) -> dict:
        """Save a new traveller profile.

        Args:
            name: The traveller's full name.
            passport_number: Passport number, letters and digits.
            date_of_birth: Date of birth as YYYY-MM-DD.

        Returns:
            The new traveller's id.
        """
        if not passport_number.isalnum():
            raise ToolError("A passport number has only letters and digits.", "invalid")
        if any(t["passport"] == passport_number for t in self.travelers.values()):
            raise ToolError("A traveller with this passport already exists.", "conflict")
        tid = self._new_id("TR")
        self.travelers[tid] = {"name": name, "passport": passport_number, "date_of_birth": date_of_birth}
        return {"traveler_id": tid}

    def set_budget_limit(self, amount: float) -> dict:
        """Set the most a single booking may cost; bookings above it are refused.

        Args:
            amount: The limit in US dollars; must be positive.

        Returns:
            The new limit.
        """
        if amount <= 0:
            raise ToolError("The budget limit must be positive.", "invalid")
        self.budget_limit = amount
        return {"budget_limit": amount}

    def book_flight(
        self,
        card_id: str,
        from_airport: str,
        to_airport: str,
        travel_date: str,
        traveler_id: str,
        travel_class: TravelClass = "economy",
    ) -> dict:
        """Book a direct flight for a traveller and pay with a registered card.

        Args:
            card_id: The id of a card registered to the logged-in account.
            from_airport: Three-letter code of the departure airport.
            to_airport: Three-letter code of the arrival airport.
            travel_date: Date of travel as YYYY-MM-DD; not in the past.
            traveler_id: The id of a saved traveller profile.
            travel_class: Cabin class.

        Returns:
            The booking id and the amount charged.
        """
        card = self._own_card(card_id)
        if traveler_id not in self.travelers:
            raise ToolError(f"No traveller with id {traveler_id!r}.", "not_found")
        if travel_date < self.today:
            raise ToolError(f"{travel_date} is in the past (today is {self.today}).", "invalid")
        fare = self._fare(from_airport, to_airport, travel_class)
        if self.budget_limit is not None and fare > self.budget_limit:
            raise ToolError(f"The fare {fare} exceeds the budget limit {self.budget_limit}.", "invalid")
        if card["balance"] < fare:
            raise ToolError("Insufficient card balance.", "failed")
        card["balance"] = round(card["balance"] - fare, 2)
        booking_id = self._new_id("BK")
        self.bookings[booking_id] = {
            "owner": self.session_user,
            "card_id": card_id,
            "from": from_airport,
            "to": to_airport,
            "date": travel_date,
            "traveler_id": traveler_id,
            "class": travel_class,
            "fare": fare,
            "status": "confirmed",
            "seat": None,
        }
        return {"booking_id": booking_id, "charged": fare, "status": "confirmed"}

    def get_booking(self, booking_id: str) -> dict:
        """Show a booking's details.

        Args:
            booking_id: The booking's id.

        Returns:
            Route, date, traveller, class, fare, status and seat.
        """
        b = self._booking(booking_id)
        return {"booking_id": booking_id, **{k: v for k, v in b.items() if k not in ("owner", "card_id")}}

    def cancel_booking(self, booking_id: str) -> dict:
        """Cancel a confirmed booking and refund its fare to the card that paid.

        Args:
            booking_id: The booking's id.

        Returns:
            The refunded amount.
        """
        user = self._require_login()
        b = self._booking(booking_id)
        if b["owner"] != user:
            raise ToolError("This booking belongs to another account.", "permission")
        if b["status"] != "confirmed":
            raise ToolError(f"Booking {booking_id} is {b['status']}, not confirmed.", "conflict")
        b["status"] = "cancelled"
        self.cards[b["card_id"]]["balance"] = round(self.cards[b["card_id"]]["balance"] + b["fare"], 2)
        return {"booking_id": booking_id, "refunded": b["fare"], "status": "cancelled"}

    def get_invoice(self, booking_id: str) -> dict:
        """Get the invoice of a booking made by the logged-in account.

        Args:
            booking_id: The booking's id.

        Returns:
            Invoice lines and the total.
        """
        user = self._require_login()
        b = self._booking(booking_id)
        if b["owner"] != user:
            raise ToolError("This booking belongs to another account.", "permission")
        lines = [{"item": f"flight {b['from']}-{b['to']} ({b['class']})", "amount": b["fare"]}]
        for ins in self.insurances.values():
            if ins["booking_id"] == booking_id:
                lines.append({"item": f"insurance ({ins['plan']})", "amount": ins["price"]})
        return {"booking_id": booking_id, "lines": lines, "total": round(sum(x["amount"] for x in lines), 2)}

    def purchase_insurance(
        self, booking_id: str, card_id: str, plan: Literal["basic", "standard", "premium"] = "standard"
    ) -> dict:
        """Buy travel insurance for a confirmed booking.

        Args:
            booking_id: The booking to insure.
            card_id: The id of a card registered to the logged-in account.
            plan: Insurance plan.

        Returns:
            The insurance id and its price.
        """
        card = self._own_card(card_id)
        b = self._booking(booking_id)
        if b["status"] != "confirmed":
            raise ToolError("Only confirmed bookings can be insured.", "conflict")
        if any(i["booking_id"] == booking_id for i in self.insurances.values()):
            raise ToolError("This booking is already insured.", "conflict")
        price = _INSURANCE_PRICE[plan]
        if card["balance"] < price:
            raise ToolError("Insufficient card balance.", "failed")
        card["balance"] = round(card["balance"] - price, 2)
        ins_id = self._new_id("INS")
        self.insurances[ins_id] = {"booking_id": booking_id, "plan": plan, "price": price}
        return {"insurance_id": ins_id, "price": price}

    def check_in(self, booking_id: str, seat_preference: Literal["window", "aisle", "any"] = "any") -> dict:
        """Check in for a confirmed booking and get a seat.

        Args:
            booking_id: The booking's id.
            seat_preference: Preferred seat position.

        Returns:
            The assigned seat.
        """
        self._require_login()
        b = self._booking(booking_id)
        if b["status"] != "confirmed":
            raise ToolError(f"Booking {booking_id} is {b['status']}.", "conflict")
        if b["seat"]:
            raise ToolError(f"Already checked in, seat {b['seat']}.", "conflict")
        row = self.rng.randint(1, 40)
        letters = {"window": "AF", "aisle": "CD", "any": "ABCDEF"}[seat_preference]
        b["seat"] = f"{row}{self.rng.choice(letters)}"
        return {"booking_id": booking_id, "seat": b["seat"]}

    def convert_currency(self, amount: float, from_currency: str, to_currency: str) -> dict:
        """Convert an amount between currencies at today's rate.

        Args:
            amount: The amount to convert.
            from_currency: ISO code of the source currency, e.g. USD.
            to_currency: ISO code of the target currency, e.g. EUR.

        Returns:
            The converted amount.
        """
        rates = self.exchange_rates
        for code in (from_currency, to_currency):
            if code not in rates:
                raise ToolError(f"Unknown currency {code!r}; known: {', '.join(sorted(rates))}.", "not_found")
        value = round(amount / rates[from_currency] * rates[to_currency], 2)
        return {"amount": value, "currency": to_currency}

    def contact_travel_support(self, booking_id: str, message: str) -> dict:
        """Open a support request about a booking.

        Args:
            booking_id: The booking concerned.
            message: What the traveller needs help with.

        Returns:
            The support ticket id.
        """
        self._booking(booking_id)
        if not message.strip():
            raise ToolError("The message is empty.", "invalid")
        tid = self._new_id("SUP")
        self.support_tickets[tid] = {"booking_id": booking_id, "message": message}
        return {"ticket_id": tid}
