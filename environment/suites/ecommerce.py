"""E-commerce: a product catalog, a cart with coupons, an address book, saved payment methods and orders.

Structure that makes data hard: products are reached by id through a search; the cart, the address
book, payment methods and orders need a logged-in shopper; checkout needs a non-empty cart, an address
id and a payment method id from the shopper's own lists; a coupon is checked against the cart's
totals; an order id leads to tracking, cancelling (before shipping) and returns (within 30 days of
delivery).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Literal

from hardgen.environment.base import Dependency, Suite, ToolError
from hardgen.environment.registry import register_suite

ProductCategory = Literal["any", "electronics", "kitchen", "sports", "books", "clothing", "home"]
ShippingSpeed = Literal["standard", "express"]
OrderStatus = Literal["any", "placed", "shipped", "delivered", "cancelled"]
_ZIP_FORMAT = {
    "US": re.compile(r"^\d{5}$"),
    "CA": re.compile(r"^[A-Z]\d[A-Z] \d[A-Z]\d$"),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$"),
}
_SHOPPER_ONLY = (
    "add_to_cart",
    "view_cart",
    "update_cart_item",
    "remove_from_cart",
    "apply_coupon",
    "remove_coupon",
    "list_shipping_addresses",
    "add_shipping_address",
    "list_saved_payment_methods",
    "save_payment_card",
    "estimate_shipping",
    "checkout_cart",
    "list_ecommerce_orders",
    "get_ecommerce_order",
    "track_package",
    "cancel_ecommerce_order",
    "request_return",
    "ecommerce_logout",
)
_ORDER_USERS = ("get_ecommerce_order", "track_package", "cancel_ecommerce_order")


def _money(value: float) -> float:
    return round(value + 1e-9, 2)


@register_suite
class EcommerceSuite(Suite):
    name = "ecommerce"
    domain = "e-commerce"
    description = (
        "Shop online: search products, fill a cart, apply coupons, check out, track and return orders."
    )
    dependencies = (
        *(Dependency("ecommerce_login", after, "prerequisite") for after in _SHOPPER_ONLY),
        Dependency("add_to_cart", "checkout_cart", "prerequisite"),
        Dependency("add_to_cart", "apply_coupon", "prerequisite"),
        Dependency("apply_coupon", "remove_coupon", "prerequisite"),
        *(
            Dependency("search_products", after, "value", "products[].product_id", "product_id")
            for after in ("get_product_details", "check_product_availability", "add_to_cart")
        ),
        Dependency("view_cart", "update_cart_item", "value", "items[].product_id", "product_id"),
        Dependency("view_cart", "remove_from_cart", "value", "items[].product_id", "product_id"),
        Dependency("add_shipping_address", "checkout_cart", "value", "address_id", "address_id"),
        Dependency("add_shipping_address", "estimate_shipping", "value", "address_id", "address_id"),
        Dependency(
            "list_shipping_addresses", "checkout_cart", "value", "addresses[].address_id", "address_id"
        ),
        Dependency(
            "list_shipping_addresses", "estimate_shipping", "value", "addresses[].address_id", "address_id"
        ),
        Dependency("save_payment_card", "checkout_cart", "value", "payment_method_id", "payment_method_id"),
        Dependency(
            "list_saved_payment_methods",
            "checkout_cart",
            "value",
            "payment_methods[].payment_method_id",
            "payment_method_id",
        ),
        *(Dependency("checkout_cart", after, "value", "order_id", "order_id") for after in _ORDER_USERS),
        *(
            Dependency("list_ecommerce_orders", after, "value", "orders[].order_id", "order_id")
            for after in (*_ORDER_USERS, "request_return")
        ),
        Dependency("get_ecommerce_order", "request_return", "value", "items[].product_id", "product_id"),
    )

    # State (public attributes, set from data/ecommerce.json).
    today: str
    accounts: dict[str, dict[str, Any]]
    session_user: str | None
    products: dict[str, dict[str, Any]]
    carts: dict[str, dict[str, Any]]
    addresses: dict[str, dict[str, Any]]
    payment_methods: dict[str, dict[str, Any]]
    coupons: dict[str, dict[str, Any]]
    orders: dict[str, dict[str, Any]]
    shipping_rates: dict[str, dict[str, dict[str, Any]]]
    free_shipping_threshold: dict[str, float]
    max_quantity_per_product: int
    return_window_days: int
    new_card_limit: float
    next_id: int

    # -------------------------------------------------------------- helpers (private: not tools)

    def _require_login(self) -> str:
        if not self.session_user:
            raise ToolError("No shopper is logged in: log in to the store first.", "precondition")
        return self.session_user

    def _new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def _product(self, product_id: str) -> dict[str, Any]:
        if product_id not in self.products:
            raise ToolError(f"No product with id {product_id!r}.", "not_found")
        return self.products[product_id]

    def _cart(self) -> dict[str, Any]:
        user = self._require_login()
        return self.carts.setdefault(user, {"items": [], "coupon": None})

    def _cart_line(self, product_id: str) -> dict[str, Any]:
        for line in self._cart()["items"]:
            if line["product_id"] == product_id:
                return line
        raise ToolError(f"Product {product_id!r} is not in the cart.", "not_found")

    def _check_quantity(self, product_id: str, quantity: int) -> None:
        product = self._product(product_id)
        if quantity > self.max_quantity_per_product:
            raise ToolError(f"At most {self.max_quantity_per_product} of one product per order.", "invalid")
        if quantity > product["stock"]:
            raise ToolError(f"Only {product['stock']} of {product['name']} in stock.", "conflict")

    def _address(self, address_id: str) -> dict[str, Any]:
        user = self._require_login()
        address = self.addresses.get(address_id)
        if address is None or address["owner"] != user:
            raise ToolError(f"No address {address_id!r} in your address book.", "not_found")
        return address

    def _payment_method(self, payment_method_id: str) -> dict[str, Any]:
        user = self._require_login()
        method = self.payment_methods.get(payment_method_id)
        if method is None or method["owner"] != user:
            raise ToolError(f"No saved payment method {payment_method_id!r}.", "not_found")
        return method

    def _order(self, order_id: str) -> dict[str, Any]:
        user = self._require_login()
        order = self.orders.get(order_id)
        if order is None or order["owner"] != user:
            raise ToolError(f"No order {order_id!r} in your account.", "not_found")
        return order

    def _expired(self, expiry: str) -> bool:
        month, year = int(expiry[:2]), 2000 + int(expiry[3:])
        return (year, month) < (int(self.today[:4]), int(self.today[5:7]))

    def _subtotal(self, items: list[dict[str, Any]], category: str | None = None) -> float:
        return _money(
            sum(
                line["quantity"] * self.products[line["product_id"]]["price"]
                for line in items
                if category is None or self.products[line["product_id"]]["category"] == category
            )
        )

    def _coupon_discount(self, code: str, user: str, items: list[dict[str, Any]]) -> float:
        """The discount a coupon gives this cart; raises ToolError when it does not apply."""
        coupon = self.coupons.get(code.strip().upper())
        if coupon is None:
            raise ToolError(f"No coupon {code!r}.", "not_found")
        if coupon["expires"] < self.today:
            raise ToolError(f"Coupon {code} expired on {coupon['expires']}.", "invalid")
        if coupon["once_per_customer"] and user in coupon["used_by"]:
            raise ToolError(f"You have already used coupon {code}.", "conflict")
        subtotal = self._subtotal(items)
        if subtotal < coupon["min_subtotal"]:
            raise ToolError(
                f"Coupon {code} needs a cart subtotal of at least {coupon['min_subtotal']:.2f}; the cart has "
                f"{subtotal:.2f}.",
                "conflict",
            )
        eligible = self._subtotal(items, coupon["category"])
        if eligible <= 0:
            raise ToolError(f"Coupon {code} applies only to {coupon['category']} products.", "conflict")
        if coupon["kind"] == "percent":
            return _money(eligible * coupon["value"] / 100)
        if coupon["kind"] == "amount":
            return _money(min(float(coupon["value"]), eligible))
        return 0.0

    def _current_discount(self, cart: dict[str, Any], user: str) -> float:
        """The applied coupon's discount; a coupon the cart no longer qualifies for is dropped."""
        if not cart["coupon"]:
            return 0.0
        try:
            return self._coupon_discount(cart["coupon"], user, cart["items"])
        except ToolError:
            cart["coupon"] = None
            return 0.0

    def _shipping(self, country: str, speed: str, discounted_subtotal: float, coupon: str | None) -> float:
        rate = self.shipping_rates[country][speed]
        if speed == "standard":
            threshold = self.free_shipping_threshold.get(country)
            free_coupon = coupon is not None and self.coupons[coupon]["kind"] == "free_shipping"
            if free_coupon or (threshold is not None and discounted_subtotal >= threshold):
                return 0.0
        return float(rate["cost"])

    # -------------------------------------------------------------- session

    def ecommerce_login(self, username: str, password: str) -> dict[str, Any]:
        """Log in to the online store.

        Args:
            username: The shopper's username.
            password: The shopper's password.

        Returns:
            The username, the shopper's name and how many items wait in the cart.
        """
        account = self.accounts.get(username)
        if account is None or account["password"] != password:
            raise ToolError("Wrong username or password.", "permission")
        self.session_user = username
        items = self.carts.get(username, {"items": []})["items"]
        return {
            "username": username,
            "name": account["name"],
            "cart_items": sum(i["quantity"] for i in items),
        }

    def ecommerce_logout(self) -> dict[str, Any]:
        """Log out of the online store; the cart is kept for next time.

        Returns:
            The username that was logged out.
        """
        user = self._require_login()
        self.session_user = None
        return {"logged_out": user}

    # -------------------------------------------------------------- catalog

    def search_products(
        self,
        query: str,
        category: ProductCategory = "any",
        max_price: float | None = None,
        in_stock_only: bool = False,
    ) -> dict[str, Any]:
        """Search the catalog by words in the product name.

        Args:
            query: Words to look for in product names, for example "coffee grinder".
            category: Only products of this category, or "any".
            max_price: Only products at or below this price in US dollars; null for no limit.
            in_stock_only: Only products that are in stock.

        Returns:
            The matching products with their id, name, category, price and stock.
        """
        words = re.findall(r"[a-z0-9]+", query.lower())
        if not words:
            raise ToolError("The search query has no words.", "invalid")
        found = []
        for pid, p in self.products.items():
            name = p["name"].lower()
            if not all(w in name for w in words) or category not in ("any", p["category"]):
                continue
            if (max_price is not None and p["price"] > max_price) or (in_stock_only and p["stock"] <= 0):
                continue
            found.append(
                {
                    "product_id": pid,
                    "name": p["name"],
                    "category": p["category"],
                    "price": p["price"],
                    "stock": p["stock"],
                }
            )
        if not found:
            raise ToolError(f"No product matches {query!r} with these filters.", "not_found")
        return {"products": found, "count": len(found)}

    def get_product_details(self, product_id: str) -> dict[str, Any]:
        """Show a product's details.

        Args:
            product_id: The product's id, for example "PRD1001".

        Returns:
            Name, category, price in US dollars, units in stock, average rating and description.
        """
        return {"product_id": product_id, **self._product(product_id)}

    def check_product_availability(self, product_id: str, quantity: int = 1) -> dict[str, Any]:
        """Check whether a quantity of a product can be ordered now.

        Args:
            product_id: The product's id.
            quantity: How many units are wanted; at least 1.

        Returns:
            Whether that quantity is available, the units in stock, the per-order limit and the price.
        """
        product = self._product(product_id)
        if quantity < 1:
            raise ToolError("The quantity must be at least 1.", "invalid")
        available = quantity <= min(product["stock"], self.max_quantity_per_product)
        return {
            "product_id": product_id,
            "available": available,
            "in_stock": product["stock"],
            "max_per_order": self.max_quantity_per_product,
            "unit_price": product["price"],
        }

    # -------------------------------------------------------------- cart

    def add_to_cart(self, product_id: str, quantity: int = 1) -> dict[str, Any]:
        """Put a product in the logged-in shopper's cart (adds to any quantity already there).

        Args:
            product_id: The product's id.
            quantity: How many units to add; at least 1.

        Returns:
            The product's quantity now in the cart, the number of items and the cart subtotal.
        """
        cart = self._cart()
        self._product(product_id)
        if quantity < 1:
            raise ToolError("The quantity must be at least 1.", "invalid")
        line = next((x for x in cart["items"] if x["product_id"] == product_id), None)
        total = quantity + (line["quantity"] if line else 0)
        self._check_quantity(product_id, total)
        if line:
            line["quantity"] = total
        else:
            cart["items"].append({"product_id": product_id, "quantity": total})
        return {
            "product_id": product_id,
            "quantity_in_cart": total,
            "cart_items": sum(x["quantity"] for x in cart["items"]),
            "subtotal": self._subtotal(cart["items"]),
        }

    def view_cart(self) -> dict[str, Any]:
        """Show the logged-in shopper's cart with prices and any applied coupon.

        Returns:
            The cart lines (product id, name, quantity, unit price, line total), the subtotal, the
            coupon code and discount, and the total before shipping.
        """
        cart = self._cart()
        user = self._require_login()
        lines = [
            {
                "product_id": x["product_id"],
                "name": self.products[x["product_id"]]["name"],
                "quantity": x["quantity"],
                "unit_price": self.products[x["product_id"]]["price"],
                "line_total": _money(x["quantity"] * self.products[x["product_id"]]["price"]),
            }
            for x in cart["items"]
        ]
        subtotal = self._subtotal(cart["items"])
        discount = self._current_discount(cart, user)
        return {
            "items": lines,
            "subtotal": subtotal,
            "coupon": cart["coupon"],
            "discount": discount,
            "total_before_shipping": _money(subtotal - discount),
        }

    def update_cart_item(self, product_id: str, quantity: int) -> dict[str, Any]:
        """Change how many units of a product are in the cart; 0 removes it.

        Args:
            product_id: The id of a product already in the cart.
            quantity: The new quantity, 0 or more.

        Returns:
            The product's new quantity and the cart subtotal.
        """
        cart = self._cart()
        line = self._cart_line(product_id)
        if quantity < 0:
            raise ToolError("The quantity cannot be negative.", "invalid")
        if quantity == 0:
            cart["items"].remove(line)
        else:
            self._check_quantity(product_id, quantity)
            line["quantity"] = quantity
        self._current_discount(cart, self._require_login())
        return {
            "product_id": product_id,
            "quantity": quantity,
            "subtotal": self._subtotal(cart["items"]),
            "coupon": cart["coupon"],
        }

    def remove_from_cart(self, product_id: str) -> dict[str, Any]:
        """Take a product out of the cart.

        Args:
            product_id: The id of a product in the cart.

        Returns:
            The removed product's id and the products left in the cart.
        """
        cart = self._cart()
        cart["items"].remove(self._cart_line(product_id))
        self._current_discount(cart, self._require_login())
        return {
            "removed": product_id,
            "remaining_products": [x["product_id"] for x in cart["items"]],
            "coupon": cart["coupon"],
        }

    def apply_coupon(self, code: str) -> dict[str, Any]:
        """Apply a coupon code to the cart; it is checked against the cart's subtotal and contents.

        Args:
            code: The coupon code, for example "SAVE10".

        Returns:
            The coupon, the discount it gives, the subtotal and the total before shipping.
        """
        cart = self._cart()
        user = self._require_login()
        if not cart["items"]:
            raise ToolError("The cart is empty: add products before applying a coupon.", "precondition")
        discount = self._coupon_discount(code, user, cart["items"])
        key = code.strip().upper()
        cart["coupon"] = key
        subtotal = self._subtotal(cart["items"])
        return {
            "coupon": key,
            "discount": discount,
            "free_shipping": self.coupons[key]["kind"] == "free_shipping",
            "subtotal": subtotal,
            "total_before_shipping": _money(subtotal - discount),
        }

    def remove_coupon(self) -> dict[str, Any]:
        """Remove the coupon applied to the cart.

        Returns:
            The coupon code that was removed.
        """
        cart = self._cart()
        if not cart["coupon"]:
            raise ToolError("No coupon is applied to the cart.", "precondition")
        code, cart["coupon"] = cart["coupon"], None
        return {"removed_coupon": code}

    # -------------------------------------------------------------- addresses and payment

    def list_shipping_addresses(self) -> dict[str, Any]:
        """List the logged-in shopper's saved shipping addresses.

        Returns:
            Each address's id, recipient, street, city, zip code and country.
        """
        user = self._require_login()
        return {
            "addresses": [
                {"address_id": aid, **{k: v for k, v in a.items() if k != "owner"}}
                for aid, a in self.addresses.items()
                if a["owner"] == user
            ]
        }

    def add_shipping_address(
        self, recipient: str, street: str, city: str, zipcode: str, country: Literal["US", "CA", "GB"] = "US"
    ) -> dict[str, Any]:
        """Save a new shipping address to the logged-in shopper's address book.

        Args:
            recipient: Who receives the parcels.
            street: Street and number, with apartment or suite if any.
            city: The city.
            zipcode: Postal code in the country's format (US "97209", CA "V6B 3K9", GB "N1 7GU").
            country: Two-letter country code.

        Returns:
            The new address's id.
        """
        user = self._require_login()
        zipcode = zipcode.strip().upper()
        if not (recipient.strip() and street.strip() and city.strip()):
            raise ToolError("Recipient, street and city are required.", "invalid")
        if not _ZIP_FORMAT[country].match(zipcode):
            raise ToolError(f"{zipcode!r} is not a valid {country} postal code.", "invalid")
        for aid, a in self.addresses.items():
            if (
                a["owner"] == user
                and a["street"].lower() == street.strip().lower()
                and a["zipcode"] == zipcode
            ):
                raise ToolError(f"This address is already saved as {aid}.", "conflict")
        address_id = self._new_id("ADDR")
        self.addresses[address_id] = {
            "owner": user,
            "recipient": recipient.strip(),
            "street": street.strip(),
            "city": city.strip(),
            "zipcode": zipcode,
            "country": country,
        }
        return {"address_id": address_id}

    def list_saved_payment_methods(self) -> dict[str, Any]:
        """List the logged-in shopper's saved payment methods.

        Returns:
            Each method's id, type (card or gift_card), brand, last four digits, expiry and whether expired.
        """
        user = self._require_login()
        return {
            "payment_methods": [
                {
                    "payment_method_id": pid,
                    "type": m["type"],
                    "brand": m["brand"],
                    "last4": m["last4"],
                    "expiry": m["expiry"],
                    "expired": self._expired(m["expiry"]),
                }
                for pid, m in self.payment_methods.items()
                if m["owner"] == user
            ]
        }

    def save_payment_card(self, card_number: str, expiry: str, holder_name: str) -> dict[str, Any]:
        """Save a payment card to the logged-in shopper's account.

        Args:
            card_number: The 16-digit card number.
            expiry: Expiry date as MM/YY; must not be in the past.
            holder_name: The name printed on the card.

        Returns:
            The new payment method's id, brand and last four digits.
        """
        user = self._require_login()
        digits = card_number.replace(" ", "").replace("-", "")
        if len(digits) != 16 or not digits.isdigit():
            raise ToolError("A card number has 16 digits.", "invalid")
        if not re.fullmatch(r"(0[1-9]|1[0-2])/\d\d", expiry):
            raise ToolError("Expiry must look like MM/YY.", "invalid")
        if self._expired(expiry):
            raise ToolError(f"The card expired ({expiry}).", "invalid")
        if any(m["owner"] == user and m["last4"] == digits[-4:] for m in self.payment_methods.values()):
            raise ToolError("A card ending in these digits is already saved.", "conflict")
        brand = {"4": "visa", "5": "mastercard", "3": "amex"}.get(digits[0], "card")
        method_id = self._new_id("PM")
        self.payment_methods[method_id] = {
            "owner": user,
            "type": "card",
            "brand": brand,
            "last4": digits[-4:],
            "holder": holder_name.strip(),
            "expiry": expiry,
            "available": self.new_card_limit,
        }
        return {"payment_method_id": method_id, "brand": brand, "last4": digits[-4:]}

    # -------------------------------------------------------------- checkout

    def estimate_shipping(self, address_id: str, speed: ShippingSpeed = "standard") -> dict[str, Any]:
        """Estimate shipping cost and delivery date of the current cart to a saved address.

        Args:
            address_id: The id of an address in the shopper's address book.
            speed: Shipping speed.

        Returns:
            The shipping cost in US dollars, whether it is free, the delivery days and the estimated date.
        """
        cart = self._cart()
        address = self._address(address_id)
        discount = self._current_discount(cart, self._require_login())
        cost = self._shipping(
            address["country"], speed, self._subtotal(cart["items"]) - discount, cart["coupon"]
        )
        days = self.shipping_rates[address["country"]][speed]["days"]
        return {
            "address_id": address_id,
            "speed": speed,
            "cost": cost,
            "free_shipping": cost == 0,
            "delivery_days": days,
            "estimated_delivery": (date.fromisoformat(self.today) + timedelta(days=days)).isoformat(),
        }

    def checkout_cart(
        self, address_id: str, payment_method_id: str, shipping_speed: ShippingSpeed = "standard"
    ) -> dict[str, Any]:
        """Place an order for everything in the cart, shipped to a saved address and paid with a saved method.

        Args:
            address_id: The id of an address in the shopper's address book.
            payment_method_id: The id of one of the shopper's saved payment methods.
            shipping_speed: Shipping speed.

        Returns:
            The new order's id, status, subtotal, discount, shipping, total charged and estimated delivery.
        """
        user = self._require_login()
        cart = self._cart()
        if not cart["items"]:
            raise ToolError("The cart is empty: add products before checking out.", "precondition")
        address = self._address(address_id)
        method = self._payment_method(payment_method_id)
        if self._expired(method["expiry"]):
            raise ToolError(f"Payment method {payment_method_id} expired ({method['expiry']}).", "invalid")
        for line in cart["items"]:
            self._check_quantity(line["product_id"], line["quantity"])
        subtotal = self._subtotal(cart["items"])
        discount = self._coupon_discount(cart["coupon"], user, cart["items"]) if cart["coupon"] else 0.0
        shipping = self._shipping(address["country"], shipping_speed, subtotal - discount, cart["coupon"])
        total = _money(subtotal - discount + shipping)
        if method["available"] < total:
            raise ToolError(
                f"Payment declined: {payment_method_id} has {method['available']:.2f} available; the order "
                f"is {total:.2f}.",
                "failed",
            )
        method["available"] = _money(method["available"] - total)
        for line in cart["items"]:
            self.products[line["product_id"]]["stock"] -= line["quantity"]
        if cart["coupon"]:
            self.coupons[cart["coupon"]]["used_by"].append(user)
        days = self.shipping_rates[address["country"]][shipping_speed]["days"]
        order_id = self._new_id("ORD")
        self.orders[order_id] = {
            "owner": user,
            "items": [
                {
                    "product_id": x["product_id"],
                    "name": self.products[x["product_id"]]["name"],
                    "quantity": x["quantity"],
                    "unit_price": self.products[x["product_id"]]["price"],
                }
                for x in cart["items"]
            ],
            "subtotal": subtotal,
            "discount": discount,
            "coupon": cart["coupon"],
            "shipping": shipping,
            "total": total,
            "address_id": address_id,
            "payment_method_id": payment_method_id,
            "status": "placed",
            "shipping_speed": shipping_speed,
            "placed_at": self.today,
            "shipped_at": None,
            "delivered_at": None,
            "carrier": None,
            "tracking_number": None,
            "returns": [],
        }
        self.carts[user] = {"items": [], "coupon": None}
        return {
            "order_id": order_id,
            "status": "placed",
            "subtotal": subtotal,
            "discount": discount,
            "shipping": shipping,
            "total": total,
            "estimated_delivery": (date.fromisoformat(self.today) + timedelta(days=days)).isoformat(),
        }

    # -------------------------------------------------------------- orders

    def list_ecommerce_orders(self, status: OrderStatus = "any") -> dict[str, Any]:
        """List the logged-in shopper's orders, newest first.

        Args:
            status: Only orders in this status, or "any".

        Returns:
            Each order's id, status, date placed, number of items and total.
        """
        user = self._require_login()
        orders = [
            {
                "order_id": oid,
                "status": o["status"],
                "placed_at": o["placed_at"],
                "items": sum(i["quantity"] for i in o["items"]),
                "total": o["total"],
            }
            for oid, o in self.orders.items()
            if o["owner"] == user and status in ("any", o["status"])
        ]
        orders.sort(key=lambda o: (o["placed_at"], o["order_id"]), reverse=True)
        return {"orders": orders}

    def get_ecommerce_order(self, order_id: str) -> dict[str, Any]:
        """Show one of the shopper's orders in full.

        Args:
            order_id: The order's id, for example "ORD7001".

        Returns:
            Items (product id, name, quantity, unit price), amounts, coupon, address and payment method
            ids, status, dates and any returns.
        """
        order = self._order(order_id)
        return {
            "order_id": order_id,
            **{
                k: ([dict(x) for x in v] if isinstance(v, list) else v)
                for k, v in order.items()
                if k != "owner"
            },
        }

    def track_package(self, order_id: str) -> dict[str, Any]:
        """Track the shipment of an order.

        Args:
            order_id: The order's id.

        Returns:
            The order status, carrier, tracking number, ship date, delivery date or estimate, and a
            status message.
        """
        order = self._order(order_id)
        status = order["status"]
        if status == "cancelled":
            raise ToolError(f"Order {order_id} was cancelled; there is nothing to track.", "conflict")
        country = self.addresses[order["address_id"]]["country"]
        days = self.shipping_rates[country][order["shipping_speed"]]["days"]
        estimate = (
            date.fromisoformat(order["shipped_at"] or order["placed_at"]) + timedelta(days=days)
        ).isoformat()
        message = {
            "placed": "Preparing your order; it has not shipped yet.",
            "shipped": f"In transit with {order['carrier']}.",
            "delivered": f"Delivered on {order['delivered_at']}.",
        }.get(status, status)
        return {
            "order_id": order_id,
            "status": status,
            "carrier": order["carrier"],
            "tracking_number": order["tracking_number"],
            "shipped_at": order["shipped_at"],
            "delivered_at": order["delivered_at"],
            "estimated_delivery": order["delivered_at"] or estimate,
            "message": message,
        }

    def cancel_ecommerce_order(self, order_id: str) -> dict[str, Any]:
        """Cancel an order that has not shipped yet; the total is refunded and the stock restored.

        Args:
            order_id: The order's id.

        Returns:
            The order id, its status (cancelled) and the refunded amount.
        """
        order = self._order(order_id)
        if order["status"] != "placed":
            raise ToolError(
                f"Order {order_id} is {order['status']}; only orders not yet shipped can be cancelled.",
                "conflict",
            )
        order["status"] = "cancelled"
        for item in order["items"]:
            if item["product_id"] in self.products:
                self.products[item["product_id"]]["stock"] += item["quantity"]
        method = self.payment_methods.get(order["payment_method_id"])
        if method is not None:
            method["available"] = _money(method["available"] + order["total"])
        return {"order_id": order_id, "status": "cancelled", "refunded": order["total"]}

    def request_return(
        self,
        order_id: str,
        product_id: str,
        reason: Literal["damaged", "wrong_item", "not_as_described", "no_longer_needed"],
        quantity: int = 1,
    ) -> dict[str, Any]:
        """Return units of a product from a delivered order, within 30 days of delivery.

        Args:
            order_id: The order's id.
            product_id: The id of a product in that order.
            reason: Why it is returned.
            quantity: How many units to return; at least 1.

        Returns:
            The return's id, the refund amount and the last day to ship the item back.
        """
        order = self._order(order_id)
        if order["status"] != "delivered":
            raise ToolError(
                f"Order {order_id} is {order['status']}; only delivered orders can be returned.", "conflict"
            )
        deadline = date.fromisoformat(order["delivered_at"]) + timedelta(days=self.return_window_days)
        if date.fromisoformat(self.today) > deadline:
            raise ToolError(f"The return window for {order_id} closed on {deadline.isoformat()}.", "conflict")
        item = next((i for i in order["items"] if i["product_id"] == product_id), None)
        if item is None:
            raise ToolError(f"Product {product_id!r} is not in order {order_id}.", "not_found")
        returned = sum(r["quantity"] for r in order["returns"] if r["product_id"] == product_id)
        if not 1 <= quantity <= item["quantity"] - returned:
            raise ToolError(
                f"You can return between 1 and {item['quantity'] - returned} unit(s) of this product.",
                "invalid",
            )
        share = order["discount"] / order["subtotal"] if order["subtotal"] else 0.0
        refund = _money(item["unit_price"] * quantity * (1 - share))
        return_id = self._new_id("RET")
        order["returns"].append(
            {
                "return_id": return_id,
                "product_id": product_id,
                "quantity": quantity,
                "reason": reason,
                "refund": refund,
            }
        )
        ship_back_by = (date.fromisoformat(self.today) + timedelta(days=14)).isoformat()
        return {"return_id": return_id, "order_id": order_id, "refund": refund, "ship_back_by": ship_back_by}
