"""Cases for the trading suite (default state: market open; jwilson holds NMBS and SOLR, one open order)."""

from __future__ import annotations

from tests.suite_cases import Case

JORDAN = ("trading_login", {"username": "jwilson", "password": "Bull$Market1"})
KIRAN = ("trading_login", {"username": "kpatel", "password": "Kp!quartz9"})
NO_SESSION = "tool:precondition"

CASES: list[Case] = [
    # session
    Case(
        "trading_login",
        {"username": "jwilson", "password": "Bull$Market1"},
        True,
        expect={"account_id": "BRK77120"},
    ),
    Case("trading_login", {"username": "jwilson", "password": "bull"}, False, "tool:permission"),
    Case("trading_logout", {}, True, setup=(JORDAN,), expect={"logged_out": True}),
    Case("trading_logout", {}, False, NO_SESSION),
    # market data
    Case("get_stock_symbol", {"company_name": "nimbus cloud  systems"}, True, expect={"symbol": "NMBS"}),
    Case("get_stock_symbol", {"company_name": "Solaris Renewable Energy"}, True, expect={"symbol": "SOLR"}),
    Case("get_stock_symbol", {"company_name": "Nimbus"}, False, "tool:not_found"),
    Case(
        "get_company_profile",
        {"symbol": "ORCH"},
        True,
        expect={"company_name": "Orchid Biotherapeutics", "sector": "healthcare"},
    ),
    Case("get_company_profile", {"symbol": "orch"}, False, "tool:not_found"),
    Case(
        "get_stock_quote",
        {"symbol": "QNTM"},
        True,
        expect={"price": 94.15, "previous_close": 95.88, "change_percent": -1.8},
    ),
    Case("get_stock_quote", {"symbol": "ZZZZ"}, False, "tool:not_found"),
    Case("get_stock_quote", {}, False, "env:missing_argument"),
    Case(
        "get_price_history",
        {"symbol": "QNTM", "days": 2},
        True,
        expect={
            "closes": [{"date": "2026-02-26", "close": 93.68}, {"date": "2026-02-27", "close": 95.88}],
            "average_close": 94.78,
        },
    ),
    Case("get_price_history", {"symbol": "QNTM", "days": 11}, False, "tool:invalid"),
    Case(
        "list_sector_stocks",
        {"sector": "materials"},
        True,
        expect={
            "stocks": [
                {"symbol": "CRYS", "company_name": "Crystal Lithium Mining", "price": 26.05},
                {"symbol": "FRGE", "company_name": "Forgeworks Steel", "price": 33.48},
            ]
        },
    ),
    Case("list_sector_stocks", {"sector": "crypto"}, False, "env:invalid_value"),
    Case(
        "get_market_movers",
        {"direction": "losers", "limit": 1},
        True,
        expect={"stocks": [{"symbol": "LUMA", "price": 22.4, "change_percent": -3.9}]},
    ),
    Case("get_market_movers", {"limit": 11}, False, "tool:invalid"),
    Case("get_market_status", {}, True, expect={"market_open": True}),
    Case("get_market_status", {"exchange": "NYSE"}, False, "env:unexpected_argument"),
    Case(
        "estimate_order_cost",
        {"symbol": "NMBS", "quantity": 10},
        True,
        expect={"gross": 1874.2, "commission": 4.95, "net": 1879.15},
    ),
    Case(
        "estimate_order_cost",
        {"symbol": "NMBS", "quantity": 10, "side": "sell"},
        True,
        id="sell",
        expect={"net": 1869.25},
    ),
    Case("estimate_order_cost", {"symbol": "NMBS", "quantity": 0}, False, "tool:invalid"),
    # orders
    Case(
        "place_stock_order",
        {"symbol": "NMBS", "side": "buy", "quantity": 10},
        True,
        setup=(JORDAN,),
        expect={"order_id": "ORD80101", "status": "filled", "fill_price": 187.42},
    ),
    Case(
        "place_stock_order",
        {"symbol": "ORCH", "side": "buy", "quantity": 10, "order_type": "limit", "limit_price": 60.0},
        True,
        setup=(JORDAN,),
        id="resting-limit",
        expect={"status": "open", "fill_price": None},
    ),
    Case(
        "place_stock_order",
        {"symbol": "SOLR", "side": "sell", "quantity": 20, "order_type": "limit", "limit_price": 50.0},
        True,
        setup=(JORDAN,),
        id="marketable-limit",
        expect={"status": "filled", "fill_price": 52.18},
    ),
    Case("place_stock_order", {"symbol": "NMBS", "side": "buy", "quantity": 10}, False, NO_SESSION),
    Case(
        "place_stock_order",
        {"symbol": "NMBS", "side": "buy", "quantity": 200},
        False,
        "tool:failed",
        setup=(JORDAN,),
        id="buying-power",
    ),
    Case(
        "place_stock_order",
        {"symbol": "NMBS", "side": "sell", "quantity": 41},
        False,
        "tool:failed",
        setup=(JORDAN,),
        id="not-enough-shares",
    ),
    Case(
        "place_stock_order",
        {"symbol": "NMBS", "side": "buy", "quantity": 1, "order_type": "limit"},
        False,
        "tool:invalid",
        setup=(JORDAN,),
        id="limit-without-price",
    ),
    Case(
        "place_stock_order",
        {"symbol": "NMBS", "side": "buy", "quantity": 1, "limit_price": 180.0},
        False,
        "tool:invalid",
        setup=(JORDAN,),
        id="market-with-price",
    ),
    Case("place_stock_order", {"symbol": "NMBS", "side": "hold", "quantity": 1}, False, "env:invalid_value"),
    Case("place_stock_order", {"symbol": "NMBS", "side": "buy", "quantity": 2.5}, False, "env:wrong_type"),
    Case(
        "get_stock_order_status",
        {"order_id": "ORD80001"},
        True,
        setup=(JORDAN,),
        expect={"symbol": "QNTM", "status": "open", "limit_price": 90.0},
    ),
    Case(
        "get_stock_order_status",
        {"order_id": "ORD80003"},
        False,
        "tool:not_found",
        setup=(JORDAN,),
        id="other-trader",
    ),
    Case(
        "cancel_stock_order", {"order_id": "ORD80001"}, True, setup=(JORDAN,), expect={"status": "cancelled"}
    ),
    Case(
        "cancel_stock_order", {"order_id": "ORD80002"}, False, "tool:conflict", setup=(JORDAN,), id="filled"
    ),
    Case("cancel_stock_order", {"order_id": "ORD80001"}, False, NO_SESSION),
    Case(
        "list_stock_orders",
        {"status": "open"},
        True,
        setup=(JORDAN,),
        expect={
            "orders": [
                {
                    "order_id": "ORD80001",
                    "symbol": "QNTM",
                    "side": "buy",
                    "quantity": 30,
                    "order_type": "limit",
                    "status": "open",
                }
            ]
        },
    ),
    Case("list_stock_orders", {"status": "pending"}, False, "env:invalid_value", setup=(JORDAN,)),
    # account
    Case(
        "get_stock_portfolio",
        {},
        True,
        setup=(KIRAN,),
        expect={
            "holdings": [
                {
                    "symbol": "QNTM",
                    "shares": 25,
                    "avg_cost": 101.6,
                    "price": 94.15,
                    "market_value": 2353.75,
                    "unrealized_pnl": -186.25,
                }
            ],
            "cash": 1450.0,
            "total_value": 3803.75,
        },
    ),
    Case("get_stock_portfolio", {}, False, NO_SESSION),
    Case(
        "get_trading_account",
        {},
        True,
        setup=(JORDAN,),
        expect={"cash": 25000.0, "reserved_cash": 2704.95, "available_cash": 22295.05},
    ),
    Case("get_trading_account", {}, False, NO_SESSION),
    Case("fund_trading_account", {"amount": 500}, True, setup=(KIRAN,), expect={"cash": 1950.0}),
    Case("fund_trading_account", {"amount": 60000}, False, "tool:invalid", setup=(KIRAN,)),
    Case("withdraw_trading_funds", {"amount": 22295.05}, True, setup=(JORDAN,), expect={"cash": 2704.95}),
    Case(
        "withdraw_trading_funds",
        {"amount": 23000},
        False,
        "tool:failed",
        setup=(JORDAN,),
        id="reserved-by-open-order",
    ),
    Case("withdraw_trading_funds", {"amount": 0}, False, "tool:invalid", setup=(JORDAN,)),
    # watchlist and alerts
    Case(
        "add_stock_to_watchlist",
        {"symbol": "AERO"},
        True,
        setup=(JORDAN,),
        expect={"symbols": ["QNTM", "SOLR", "MTRX", "AERO"]},
    ),
    Case("add_stock_to_watchlist", {"symbol": "SOLR"}, False, "tool:conflict", setup=(JORDAN,)),
    Case("add_stock_to_watchlist", {"symbol": "Solaris"}, False, "tool:not_found", setup=(JORDAN,)),
    Case(
        "remove_stock_from_watchlist",
        {"symbol": "SOLR"},
        True,
        setup=(JORDAN,),
        expect={"symbols": ["QNTM", "MTRX"]},
    ),
    Case("remove_stock_from_watchlist", {"symbol": "AERO"}, False, "tool:not_found", setup=(JORDAN,)),
    Case("get_stock_watchlist", {}, True, setup=(KIRAN,), expect={"symbols": []}),
    Case("get_stock_watchlist", {}, True, setup=(JORDAN,), expect={"symbols": ["QNTM", "SOLR", "MTRX"]}),
    Case("get_stock_watchlist", {}, False, NO_SESSION),
    Case(
        "set_price_alert",
        {"symbol": "NMBS", "target_price": 200.0, "direction": "above"},
        True,
        setup=(JORDAN,),
        expect={"alert_id": "ALR80101"},
    ),
    Case(
        "set_price_alert",
        {"symbol": "NMBS", "target_price": 180.0, "direction": "above"},
        False,
        "tool:invalid",
        setup=(JORDAN,),
        id="already-above",
    ),
    Case(
        "set_price_alert",
        {"symbol": "NMBS", "target_price": 180.0, "direction": "sideways"},
        False,
        "env:invalid_value",
    ),
    Case(
        "list_price_alerts",
        {},
        True,
        setup=(("trading_login", {"username": "mgarcia", "password": "tide-pool-43"}),),
        expect={
            "alerts": [
                {"alert_id": "ALR80010", "symbol": "HLXG", "target_price": 100.0, "direction": "below"}
            ]
        },
    ),
    Case("list_price_alerts", {}, False, NO_SESSION),
    Case(
        "remove_price_alert",
        {"alert_id": "ALR80101"},
        True,
        expect={"removed": True},
        setup=(JORDAN, ("set_price_alert", {"symbol": "NMBS", "target_price": 200.0, "direction": "above"})),
    ),
    Case(
        "remove_price_alert",
        {"alert_id": "ALR80010"},
        False,
        "tool:not_found",
        setup=(JORDAN,),
        id="other-trader",
    ),
]
