"""Cases for the e-commerce suite (default state: nobody logged in, today is 2026-03-02)."""

from __future__ import annotations

from typing import Any

from tests.suite_cases import Case

Setup = tuple[tuple[str, dict[str, Any]], ...]

MARIA: Setup = (("ecommerce_login", {"username": "maria_g", "password": "Sunflower#88"}),)
WITH_SKILLET: Setup = (*MARIA, ("add_to_cart", {"product_id": "PRD1007", "quantity": 1}))
WITH_HEADPHONES: Setup = (*MARIA, ("add_to_cart", {"product_id": "PRD1001"}))
NEW_ADDRESS = {
    "recipient": "Maria Gonzalez",
    "street": "77 Harbor Lane",
    "city": "Seattle",
    "zipcode": "98101",
}
CHECKOUT = {"address_id": "ADDR201", "payment_method_id": "PM301"}

CASES: list[Case] = [
    # session
    Case(
        "ecommerce_login", {"username": "maria_g", "password": "Sunflower#88"}, True, expect={"cart_items": 0}
    ),
    Case(
        "ecommerce_login",
        {"username": "jwhitfield", "password": "Tea&Biscuits42"},
        True,
        expect={"name": "James Whitfield", "cart_items": 1},
        id="saved-cart",
    ),
    Case("ecommerce_login", {"username": "maria_g", "password": "sunflower"}, False, "tool:permission"),
    Case("ecommerce_logout", {}, True, setup=MARIA, expect={"logged_out": "maria_g"}),
    Case("ecommerce_logout", {}, False, "tool:precondition"),
    # catalog
    Case("search_products", {"query": "coffee"}, True, expect={"count": 3}),
    Case(
        "search_products",
        {"query": "wireless", "category": "electronics", "max_price": 100, "in_stock_only": True},
        True,
        expect={
            "products": [
                {
                    "product_id": "PRD1006",
                    "name": "Kestrel Wireless Mouse",
                    "category": "electronics",
                    "price": 39.99,
                    "stock": 35,
                }
            ],
            "count": 1,
        },
        id="filters",
    ),
    Case("search_products", {"query": "spaceship"}, False, "tool:not_found"),
    Case("search_products", {"query": "!!"}, False, "tool:invalid"),
    Case("get_product_details", {"product_id": "PRD1009"}, True, expect={"price": 129.0, "stock": 3}),
    Case("get_product_details", {"product_id": "PRD0000"}, False, "tool:not_found"),
    Case(
        "check_product_availability",
        {"product_id": "PRD1009", "quantity": 3},
        True,
        expect={"available": True, "in_stock": 3},
    ),
    Case(
        "check_product_availability",
        {"product_id": "PRD1009", "quantity": 4},
        True,
        expect={"available": False},
        id="short",
    ),
    Case("check_product_availability", {"product_id": "PRD1009", "quantity": 0}, False, "tool:invalid"),
    Case("check_product_availability", {"product_id": "PRD0000"}, False, "tool:not_found"),
    # cart
    Case(
        "add_to_cart",
        {"product_id": "PRD1007", "quantity": 2},
        True,
        setup=MARIA,
        expect={"quantity_in_cart": 2, "cart_items": 2, "subtotal": 89.9},
    ),
    Case(
        "add_to_cart",
        {"product_id": "PRD1007", "quantity": 2},
        True,
        setup=WITH_SKILLET,
        expect={"quantity_in_cart": 3},
        id="adds-up",
    ),
    Case("add_to_cart", {"product_id": "PRD1007"}, False, "tool:precondition"),
    Case("add_to_cart", {"product_id": "PRD1002"}, False, "tool:conflict", setup=MARIA, id="out-of-stock"),
    Case(
        "add_to_cart",
        {"product_id": "PRD1018", "quantity": 3},
        False,
        "tool:conflict",
        setup=MARIA,
        id="low-stock",
    ),
    Case(
        "add_to_cart",
        {"product_id": "PRD1014", "quantity": 6},
        False,
        "tool:invalid",
        setup=MARIA,
        id="limit",
    ),
    Case("add_to_cart", {"product_id": "PRD0000"}, False, "tool:not_found", setup=MARIA),
    Case(
        "view_cart",
        {},
        True,
        setup=WITH_SKILLET,
        expect={
            "items": [
                {
                    "product_id": "PRD1007",
                    "name": "Hearth Cast-Iron Skillet 12-inch",
                    "quantity": 1,
                    "unit_price": 44.95,
                    "line_total": 44.95,
                }
            ],
            "subtotal": 44.95,
            "coupon": None,
            "total_before_shipping": 44.95,
        },
    ),
    Case("view_cart", {}, False, "tool:precondition"),
    Case(
        "update_cart_item",
        {"product_id": "PRD1007", "quantity": 3},
        True,
        setup=WITH_SKILLET,
        expect={"quantity": 3, "subtotal": 134.85},
    ),
    Case(
        "update_cart_item",
        {"product_id": "PRD1001", "quantity": 1},
        True,
        setup=(
            *WITH_HEADPHONES,
            ("apply_coupon", {"code": "SAVE10"}),
            ("add_to_cart", {"product_id": "PRD1019"}),
        ),
        expect={"subtotal": 223.99, "coupon": "SAVE10"},
        id="keeps-coupon",
    ),
    Case(
        "update_cart_item",
        {"product_id": "PRD1001", "quantity": 0},
        True,
        setup=(
            *WITH_HEADPHONES,
            ("add_to_cart", {"product_id": "PRD1019"}),
            ("apply_coupon", {"code": "SAVE10"}),
        ),
        expect={"subtotal": 24.0, "coupon": None},
        id="drops-coupon-below-minimum",
    ),
    Case(
        "update_cart_item",
        {"product_id": "PRD1009", "quantity": 1},
        False,
        "tool:not_found",
        setup=WITH_SKILLET,
    ),
    Case("update_cart_item", {"product_id": "PRD1007", "quantity": 1}, False, "tool:precondition"),
    Case(
        "remove_from_cart",
        {"product_id": "PRD1007"},
        True,
        setup=WITH_SKILLET,
        expect={"removed": "PRD1007", "remaining_products": []},
    ),
    Case("remove_from_cart", {"product_id": "PRD1009"}, False, "tool:not_found", setup=WITH_SKILLET),
    Case("remove_from_cart", {"product_id": "PRD1007"}, False, "tool:precondition"),
    # coupons
    Case(
        "apply_coupon",
        {"code": "save10"},
        True,
        setup=WITH_HEADPHONES,
        expect={"coupon": "SAVE10", "discount": 20.0, "total_before_shipping": 179.99},
    ),
    Case(
        "apply_coupon",
        {"code": "TECH15"},
        True,
        setup=(*WITH_HEADPHONES, ("add_to_cart", {"product_id": "PRD1007"})),
        expect={"discount": 30.0, "subtotal": 244.94},
        id="category-only",
    ),
    Case("apply_coupon", {"code": "SAVE10"}, False, "tool:precondition", setup=MARIA, id="empty-cart"),
    Case("apply_coupon", {"code": "SAVE10"}, False, "tool:precondition", id="logged-out"),
    Case("apply_coupon", {"code": "HALFOFF"}, False, "tool:not_found", setup=WITH_HEADPHONES),
    Case("apply_coupon", {"code": "WINTER20"}, False, "tool:invalid", setup=WITH_HEADPHONES, id="expired"),
    Case("apply_coupon", {"code": "WELCOME5"}, False, "tool:conflict", setup=WITH_HEADPHONES, id="used"),
    Case(
        "apply_coupon",
        {"code": "SAVE10"},
        False,
        "tool:conflict",
        setup=(*MARIA, ("add_to_cart", {"product_id": "PRD1019"})),
        id="below-minimum",
    ),
    Case(
        "apply_coupon",
        {"code": "TECH15"},
        False,
        "tool:conflict",
        setup=(*MARIA, ("add_to_cart", {"product_id": "PRD1009"})),
        id="wrong-category",
    ),
    Case(
        "remove_coupon",
        {},
        True,
        setup=(*WITH_HEADPHONES, ("apply_coupon", {"code": "SAVE10"})),
        expect={"removed_coupon": "SAVE10"},
    ),
    Case("remove_coupon", {}, False, "tool:precondition", setup=WITH_HEADPHONES),
    # addresses and payment methods
    Case(
        "list_shipping_addresses",
        {},
        True,
        setup=(*MARIA, ("add_shipping_address", NEW_ADDRESS)),
        expect={
            "addresses": [
                {
                    "address_id": "ADDR201",
                    "recipient": "Maria Gonzalez",
                    "street": "1200 NW Everett St, Apt 4B",
                    "city": "Portland",
                    "zipcode": "97209",
                    "country": "US",
                },
                {
                    "address_id": "ADDR202",
                    "recipient": "Maria Gonzalez (Brightlane Studio)",
                    "street": "815 SW 2nd Ave, Suite 300",
                    "city": "Portland",
                    "zipcode": "97204",
                    "country": "US",
                },
                {"address_id": "ADDR7101", **NEW_ADDRESS, "country": "US"},
            ]
        },
    ),
    Case("list_shipping_addresses", {}, False, "tool:precondition"),
    Case("add_shipping_address", NEW_ADDRESS, True, setup=MARIA, expect={"address_id": "ADDR7101"}),
    Case(
        "add_shipping_address",
        {**NEW_ADDRESS, "city": "Toronto", "zipcode": "m5v 2t6", "country": "CA"},
        True,
        setup=MARIA,
        expect={"address_id": "ADDR7101"},
        id="canada",
    ),
    Case("add_shipping_address", NEW_ADDRESS, False, "tool:precondition"),
    Case("add_shipping_address", {**NEW_ADDRESS, "zipcode": "9810"}, False, "tool:invalid", setup=MARIA),
    Case(
        "add_shipping_address",
        {**NEW_ADDRESS, "street": "1200 NW Everett St, Apt 4B", "zipcode": "97209"},
        False,
        "tool:conflict",
        setup=MARIA,
    ),
    Case(
        "list_saved_payment_methods",
        {},
        True,
        setup=(("ecommerce_login", {"username": "jwhitfield", "password": "Tea&Biscuits42"}),),
        expect={
            "payment_methods": [
                {
                    "payment_method_id": "PM304",
                    "type": "card",
                    "brand": "mastercard",
                    "last4": "5100",
                    "expiry": "11/27",
                    "expired": False,
                }
            ]
        },
    ),
    Case("list_saved_payment_methods", {}, False, "tool:precondition"),
    Case(
        "save_payment_card",
        {"card_number": "4111 1111 1111 1111", "expiry": "12/28", "holder_name": "Maria Gonzalez"},
        True,
        setup=MARIA,
        expect={"payment_method_id": "PM7101", "brand": "visa", "last4": "1111"},
    ),
    Case(
        "save_payment_card",
        {"card_number": "4111 1111 1111 1111", "expiry": "12/28", "holder_name": "Maria Gonzalez"},
        False,
        "tool:precondition",
    ),
    Case(
        "save_payment_card",
        {"card_number": "4111 1111 1111 1111", "expiry": "01/26", "holder_name": "Maria Gonzalez"},
        False,
        "tool:invalid",
        setup=MARIA,
        id="expired",
    ),
    Case(
        "save_payment_card",
        {"card_number": "4111 1111 1111", "expiry": "12/28", "holder_name": "Maria Gonzalez"},
        False,
        "tool:invalid",
        setup=MARIA,
        id="short-number",
    ),
    Case(
        "save_payment_card",
        {"card_number": "4000 0000 0000 4242", "expiry": "12/28", "holder_name": "Maria Gonzalez"},
        False,
        "tool:conflict",
        setup=MARIA,
    ),
    # shipping and checkout
    Case(
        "estimate_shipping",
        {"address_id": "ADDR201"},
        True,
        setup=WITH_SKILLET,
        expect={"cost": 5.99, "free_shipping": False, "estimated_delivery": "2026-03-07"},
    ),
    Case(
        "estimate_shipping",
        {"address_id": "ADDR201"},
        True,
        setup=WITH_HEADPHONES,
        expect={"cost": 0.0, "free_shipping": True},
        id="free-over-75",
    ),
    Case(
        "estimate_shipping",
        {"address_id": "ADDR201", "speed": "express"},
        True,
        setup=WITH_HEADPHONES,
        expect={"cost": 14.99, "delivery_days": 2},
        id="express",
    ),
    Case("estimate_shipping", {"address_id": "ADDR203"}, False, "tool:not_found", setup=MARIA, id="not-mine"),
    Case("estimate_shipping", {"address_id": "ADDR201"}, False, "tool:precondition"),
    Case(
        "checkout_cart",
        CHECKOUT,
        True,
        setup=WITH_SKILLET,
        expect={"order_id": "ORD7101", "status": "placed", "shipping": 5.99, "total": 50.94},
    ),
    Case(
        "checkout_cart",
        {**CHECKOUT, "shipping_speed": "express"},
        True,
        setup=(*WITH_HEADPHONES, ("apply_coupon", {"code": "SAVE10"})),
        expect={"subtotal": 199.99, "discount": 20.0, "shipping": 14.99, "total": 194.98},
        id="coupon-express",
    ),
    Case("checkout_cart", CHECKOUT, False, "tool:precondition", setup=MARIA, id="empty-cart"),
    Case("checkout_cart", CHECKOUT, False, "tool:precondition", id="logged-out"),
    Case("checkout_cart", {**CHECKOUT, "address_id": "ADDR203"}, False, "tool:not_found", setup=WITH_SKILLET),
    Case(
        "checkout_cart",
        {**CHECKOUT, "payment_method_id": "PM303"},
        False,
        "tool:invalid",
        setup=WITH_SKILLET,
        id="expired-card",
    ),
    Case(
        "checkout_cart",
        {**CHECKOUT, "payment_method_id": "PM302"},
        False,
        "tool:failed",
        setup=WITH_SKILLET,
        id="gift-card-too-small",
    ),
    # orders
    Case(
        "list_ecommerce_orders",
        {"status": "delivered"},
        True,
        setup=MARIA,
        expect={
            "orders": [
                {
                    "order_id": "ORD7001",
                    "status": "delivered",
                    "placed_at": "2026-02-14",
                    "items": 2,
                    "total": 76.95,
                },
                {
                    "order_id": "ORD7004",
                    "status": "delivered",
                    "placed_at": "2026-01-10",
                    "items": 1,
                    "total": 31.99,
                },
            ]
        },
    ),
    Case("list_ecommerce_orders", {}, False, "tool:precondition"),
    Case(
        "get_ecommerce_order",
        {"order_id": "ORD7001"},
        True,
        setup=MARIA,
        expect={"status": "delivered", "total": 76.95, "address_id": "ADDR201"},
    ),
    Case("get_ecommerce_order", {"order_id": "ORD7005"}, False, "tool:not_found", setup=MARIA, id="not-mine"),
    Case("get_ecommerce_order", {"order_id": "ORD7001"}, False, "tool:precondition"),
    Case(
        "track_package",
        {"order_id": "ORD7002"},
        True,
        setup=MARIA,
        expect={"status": "shipped", "carrier": "FedEx", "estimated_delivery": "2026-03-05"},
    ),
    Case(
        "track_package",
        {"order_id": "ORD7003"},
        True,
        setup=MARIA,
        expect={"status": "placed", "tracking_number": None},
        id="not-shipped",
    ),
    Case(
        "track_package",
        {"order_id": "ORD7003"},
        False,
        "tool:conflict",
        setup=(*MARIA, ("cancel_ecommerce_order", {"order_id": "ORD7003"})),
        id="cancelled",
    ),
    Case("track_package", {"order_id": "ORD9999"}, False, "tool:not_found", setup=MARIA),
    Case("track_package", {"order_id": "ORD7002"}, False, "tool:precondition"),
    Case(
        "cancel_ecommerce_order",
        {"order_id": "ORD7003"},
        True,
        setup=MARIA,
        expect={"status": "cancelled", "refunded": 61.97},
    ),
    Case(
        "cancel_ecommerce_order", {"order_id": "ORD7002"}, False, "tool:conflict", setup=MARIA, id="shipped"
    ),
    Case("cancel_ecommerce_order", {"order_id": "ORD9999"}, False, "tool:not_found", setup=MARIA),
    Case("cancel_ecommerce_order", {"order_id": "ORD7003"}, False, "tool:precondition"),
    Case(
        "request_return",
        {"order_id": "ORD7001", "product_id": "PRD1007", "reason": "damaged"},
        True,
        setup=MARIA,
        expect={"return_id": "RET7101", "refund": 44.95, "ship_back_by": "2026-03-16"},
    ),
    Case(
        "request_return",
        {"order_id": "ORD7004", "product_id": "PRD1015", "reason": "no_longer_needed"},
        False,
        "tool:conflict",
        setup=MARIA,
        id="window-closed",
    ),
    Case(
        "request_return",
        {"order_id": "ORD7002", "product_id": "PRD1005", "reason": "damaged"},
        False,
        "tool:conflict",
        setup=MARIA,
        id="not-delivered",
    ),
    Case(
        "request_return",
        {"order_id": "ORD7001", "product_id": "PRD1001", "reason": "damaged"},
        False,
        "tool:not_found",
        setup=MARIA,
    ),
    Case(
        "request_return",
        {"order_id": "ORD7001", "product_id": "PRD1007", "reason": "damaged", "quantity": 2},
        False,
        "tool:invalid",
        setup=MARIA,
    ),
    Case(
        "request_return",
        {"order_id": "ORD7001", "product_id": "PRD1007", "reason": "damaged"},
        False,
        "tool:precondition",
        id="logged-out",
    ),
]
