"""Stock trading: companies and tickers, quotes, orders, portfolio, cash, watchlists and price alerts.

Structure that makes data hard: users name companies, tools take ticker symbols (found by company name);
orders need a logged-in session, enough buying power or shares, and an open market for market orders;
an order's id comes back from placing it and is needed to check or cancel it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import JsonValue

from hardgen.environment.base import Dependency, Suite, ToolError, collect_entities
from hardgen.environment.registry import register_suite
from hardgen.schema import canonical_json

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
Sector = Literal[
    "technology",
    "communication",
    "healthcare",
    "energy",
    "financials",
    "consumer",
    "industrials",
    "materials",
]

_LOGIN_TOOLS = (
    "trading_logout",
    "place_stock_order",
    "get_stock_order_status",
    "cancel_stock_order",
    "list_stock_orders",
    "get_stock_portfolio",
    "get_trading_account",
    "fund_trading_account",
    "withdraw_trading_funds",
    "add_stock_to_watchlist",
    "remove_stock_from_watchlist",
    "get_stock_watchlist",
    "set_price_alert",
    "list_price_alerts",
    "remove_price_alert",
)
_SYMBOL_TOOLS = (
    "get_company_profile",
    "get_stock_quote",
    "get_price_history",
    "estimate_order_cost",
    "place_stock_order",
    "add_stock_to_watchlist",
    "remove_stock_from_watchlist",
    "set_price_alert",
)
_MAX_QUANTITY = 100_000


@register_suite
class TradingSuite(Suite):
    name = "trading"
    domain = "trading"
    description = "Look up companies and quotes, trade stocks, manage cash, watchlists and price alerts."
    dependencies = (
        *(Dependency("trading_login", tool, "prerequisite") for tool in _LOGIN_TOOLS),
        *(Dependency("get_stock_symbol", tool, "value", "symbol", "symbol") for tool in _SYMBOL_TOOLS),
        *(
            Dependency("list_sector_stocks", tool, "value", "stocks[].symbol", "symbol")
            for tool in (
                "get_stock_quote",
                "get_company_profile",
                "place_stock_order",
                "add_stock_to_watchlist",
            )
        ),
        Dependency("get_stock_watchlist", "get_stock_quote", "value", "symbols[]", "symbol"),
        Dependency("get_stock_watchlist", "place_stock_order", "value", "symbols[]", "symbol"),
        Dependency("get_stock_watchlist", "remove_stock_from_watchlist", "value", "symbols[]", "symbol"),
        Dependency("get_market_movers", "get_stock_quote", "value", "stocks[].symbol", "symbol"),
        Dependency("get_company_profile", "list_sector_stocks", "value", "sector", "sector"),
        Dependency("get_stock_portfolio", "place_stock_order", "value", "holdings[].symbol", "symbol"),
        Dependency("get_stock_portfolio", "place_stock_order", "value", "holdings[].shares", "quantity"),
        Dependency("get_stock_quote", "place_stock_order", "value", "price", "limit_price"),
        Dependency("place_stock_order", "get_stock_order_status", "value", "order_id", "order_id"),
        Dependency("place_stock_order", "cancel_stock_order", "value", "order_id", "order_id"),
        Dependency("list_stock_orders", "get_stock_order_status", "value", "orders[].order_id", "order_id"),
        Dependency("list_stock_orders", "cancel_stock_order", "value", "orders[].order_id", "order_id"),
        Dependency("set_price_alert", "remove_price_alert", "value", "alert_id", "alert_id"),
        Dependency("list_price_alerts", "remove_price_alert", "value", "alerts[].alert_id", "alert_id"),
        Dependency("get_trading_account", "withdraw_trading_funds", "value", "available_cash", "amount"),
    )

    # State (public attributes, set from data/trading.json).
    today: str
    market_open: bool
    commission: float
    stocks: dict[str, dict[str, Any]]
    users: dict[str, dict[str, Any]]
    session_user: str | None
    accounts: dict[str, dict[str, Any]]
    orders: dict[str, dict[str, Any]]
    watchlists: dict[str, list[str]]
    price_alerts: dict[str, dict[str, Any]]
    next_id: int

    # -------------------------------------------------------------- helpers (private: not tools)

    def _require_login(self) -> str:
        if not self.session_user:
            raise ToolError("Not logged in to the trading platform: log in first.", "precondition")
        return self.session_user

    def _new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def _stock(self, symbol: str) -> dict[str, Any]:
        stock = self.stocks.get(symbol)
        if stock is None:
            hint = " Ticker symbols are upper case." if symbol.upper() in self.stocks else ""
            raise ToolError(f"Unknown ticker symbol {symbol!r}.{hint}", "not_found")
        return stock

    def _own_order(self, order_id: str) -> dict[str, Any]:
        user = self._require_login()
        order = self.orders.get(order_id)
        if order is None or order["owner"] != user:
            raise ToolError(f"No order with id {order_id!r} on your account.", "not_found")
        return order

    def _reserved_cash(self, user: str) -> float:
        return sum(
            o["quantity"] * o["limit_price"] + self.commission
            for _, o in sorted(self.orders.items())
            if o["owner"] == user and o["status"] == "open" and o["side"] == "buy"
        )

    def _reserved_shares(self, user: str, symbol: str) -> int:
        return sum(
            o["quantity"]
            for _, o in sorted(self.orders.items())
            if o["owner"] == user and o["status"] == "open" and o["side"] == "sell" and o["symbol"] == symbol
        )

    def _available_cash(self, user: str) -> float:
        return round(self.accounts[user]["cash"] - self._reserved_cash(user), 2)

    def _fill(self, user: str, order: dict[str, Any], price: float) -> None:
        account = self.accounts[user]
        holdings = account["holdings"]
        qty = order["quantity"]
        if order["side"] == "buy":
            account["cash"] = round(account["cash"] - qty * price - self.commission, 2)
            held = holdings.setdefault(order["symbol"], {"shares": 0, "avg_cost": 0.0})
            held["avg_cost"] = round(
                (held["shares"] * held["avg_cost"] + qty * price) / (held["shares"] + qty), 2
            )
            held["shares"] += qty
        else:
            account["cash"] = round(account["cash"] + qty * price - self.commission, 2)
            holdings[order["symbol"]]["shares"] -= qty
            if holdings[order["symbol"]]["shares"] == 0:
                del holdings[order["symbol"]]
        order["status"], order["fill_price"] = "filled", price

    def entities(self) -> dict[str, list[JsonValue]]:
        found = collect_entities(json.loads(canonical_json(self.snapshot()["state"])))  # key order free
        found["company_name"] = [s["company"] for _, s in sorted(self.stocks.items())]
        found["symbol"] = list[JsonValue](sorted(self.stocks))
        found["username"] = list[JsonValue](sorted(self.users))
        found["password"] = [u["password"] for _, u in sorted(self.users.items())]
        found["order_id"] = list[JsonValue](sorted(self.orders))
        found["alert_id"] = list[JsonValue](sorted(self.price_alerts))
        return found

    # -------------------------------------------------------------- session

    def trading_login(self, username: str, password: str) -> dict[str, Any]:
        """Log in to the trading platform.

        Args:
            username: The trader's username.
            password: The trader's password.

        Returns:
            The username, the trader's name and brokerage account id.
        """
        user = self.users.get(username)
        if user is None or user["password"] != password:
            raise ToolError("Wrong username or password.", "permission")
        self.session_user = username
        return {
            "username": username,
            "name": user["name"],
            "account_id": user["account_id"],
            "logged_in": True,
        }

    def trading_logout(self) -> dict[str, Any]:
        """Log out of the trading platform.

        Returns:
            Confirmation that the session was closed.
        """
        user = self._require_login()
        self.session_user = None
        return {"username": user, "logged_out": True}

    # -------------------------------------------------------------- market data

    def get_stock_symbol(self, company_name: str) -> dict[str, Any]:
        """Find the ticker symbol of a listed company by its name.

        Args:
            company_name: The company's full name, for example "Nimbus Cloud Systems".

        Returns:
            The company's name and ticker symbol.
        """
        wanted = " ".join(company_name.split()).lower()
        for symbol, stock in sorted(self.stocks.items()):
            if stock["company"].lower() == wanted:
                return {"company_name": stock["company"], "symbol": symbol}
        raise ToolError(f"No listed company is named {company_name!r}.", "not_found")

    def get_company_profile(self, symbol: str) -> dict[str, Any]:
        """Describe the company behind a ticker symbol.

        Args:
            symbol: The ticker symbol, for example "NMBS".

        Returns:
            Company name, sector, business description, market capitalisation, P/E ratio and dividend yield.
        """
        s = self._stock(symbol)
        return {
            "symbol": symbol,
            "company_name": s["company"],
            "sector": s["sector"],
            "description": s["description"],
            "market_cap_billion": s["market_cap_billion"],
            "pe_ratio": s["pe_ratio"],
            "dividend_yield_percent": s["dividend_yield_percent"],
        }

    def get_stock_quote(self, symbol: str) -> dict[str, Any]:
        """Get the latest quote of a stock.

        Args:
            symbol: The ticker symbol.

        Returns:
            Last price, previous close, change in percent, day open, high, low and volume.
        """
        s = self._stock(symbol)
        change = round((s["price"] - s["previous_close"]) / s["previous_close"] * 100, 2)
        return {
            "symbol": symbol,
            "price": s["price"],
            "previous_close": s["previous_close"],
            "change_percent": change,
            "open": s["open"],
            "day_high": s["day_high"],
            "day_low": s["day_low"],
            "volume": s["volume"],
        }

    def get_price_history(self, symbol: str, days: int = 5) -> dict[str, Any]:
        """Get a stock's daily closing prices for the last trading days, oldest first.

        Args:
            symbol: The ticker symbol.
            days: How many trading days, from 1 to 10.

        Returns:
            Dated closing prices and their average.
        """
        s = self._stock(symbol)
        if not 1 <= days <= len(s["closes"]):
            raise ToolError(f"days must be between 1 and {len(s['closes'])}.", "invalid")
        dates: list[str] = []
        day = dt.date.fromisoformat(self.today)
        while len(dates) < days:
            day -= dt.timedelta(days=1)
            if day.weekday() < 5:
                dates.append(day.isoformat())
        closes = s["closes"][-days:]
        return {
            "symbol": symbol,
            "closes": [{"date": d, "close": c} for d, c in zip(reversed(dates), closes, strict=True)],
            "average_close": round(sum(closes) / days, 2),
        }

    def list_sector_stocks(self, sector: Sector) -> dict[str, Any]:
        """List the stocks of one market sector.

        Args:
            sector: The sector.

        Returns:
            Each stock's symbol, company name and last price.
        """
        rows = [
            {"symbol": sym, "company_name": s["company"], "price": s["price"]}
            for sym, s in sorted(self.stocks.items())
            if s["sector"] == sector
        ]
        if not rows:
            raise ToolError(f"No listed stocks in sector {sector!r}.", "not_found")
        return {"sector": sector, "stocks": rows}

    def get_market_movers(
        self, direction: Literal["gainers", "losers"] = "gainers", limit: int = 3
    ) -> dict[str, Any]:
        """List today's biggest gainers or losers by percentage change.

        Args:
            direction: Whether to list the stocks that rose most or fell most.
            limit: How many stocks to list, from 1 to 10.

        Returns:
            Symbols with their last price and change in percent, biggest move first.
        """
        if not 1 <= limit <= 10:
            raise ToolError("limit must be between 1 and 10.", "invalid")
        moves = [
            {
                "symbol": sym,
                "price": s["price"],
                "change_percent": round((s["price"] - s["previous_close"]) / s["previous_close"] * 100, 2),
            }
            for sym, s in sorted(self.stocks.items())
        ]
        moves.sort(key=lambda m: (m["change_percent"], m["symbol"]), reverse=direction == "gainers")
        return {"direction": direction, "stocks": moves[:limit]}

    def get_market_status(self) -> dict[str, Any]:
        """Tell whether the stock market is open for trading now.

        Returns:
            Whether the market is open, today's date and which order types are accepted.
        """
        return {
            "market_open": self.market_open,
            "date": self.today,
            "accepted_order_types": ["market", "limit"] if self.market_open else ["limit"],
        }

    def estimate_order_cost(self, symbol: str, quantity: int, side: Side = "buy") -> dict[str, Any]:
        """Estimate what a market order would cost or raise at the current price, commission included.

        Args:
            symbol: The ticker symbol.
            quantity: The number of shares, from 1 to 100000.
            side: Buying or selling.

        Returns:
            Price per share, gross value, commission and the net amount (paid for a buy, received for a sell).
        """
        s = self._stock(symbol)
        if not 1 <= quantity <= _MAX_QUANTITY:
            raise ToolError(f"quantity must be between 1 and {_MAX_QUANTITY}.", "invalid")
        gross = round(s["price"] * quantity, 2)
        net = round(gross + self.commission if side == "buy" else gross - self.commission, 2)
        return {
            "symbol": symbol,
            "side": side,
            "quantity": quantity,
            "price": s["price"],
            "gross": gross,
            "commission": self.commission,
            "net": net,
        }

    # -------------------------------------------------------------- orders

    def place_stock_order(
        self,
        symbol: str,
        side: Side,
        quantity: int,
        order_type: OrderType = "market",
        limit_price: float | None = None,
    ) -> dict[str, Any]:
        """Place an order to buy or sell shares.

        A market order fills at once at the last price and needs an open market. A limit order fills at
        once when the market is open and the last price is at or better than the limit; otherwise it
        stays open and holds the cash (buy) or shares (sell) it needs.

        Args:
            symbol: The ticker symbol.
            side: Buy or sell.
            quantity: The number of shares, from 1 to 100000.
            order_type: Market or limit order.
            limit_price: The limit price per share; needed for a limit order, not allowed for a market order.

        Returns:
            The order id, its status (filled or open) and the fill price if it filled.
        """
        user = self._require_login()
        s = self._stock(symbol)
        if not 1 <= quantity <= _MAX_QUANTITY:
            raise ToolError(f"quantity must be between 1 and {_MAX_QUANTITY}.", "invalid")
        if order_type == "limit":
            if limit_price is None or limit_price <= 0:
                raise ToolError("A limit order needs a positive limit_price.", "invalid")
        elif limit_price is not None:
            raise ToolError("A market order takes no limit_price; place a limit order instead.", "invalid")
        elif not self.market_open:
            raise ToolError(
                "The market is closed: market orders are not accepted, limit orders are.", "failed"
            )
        price = s["price"]
        if side == "buy":
            worst = limit_price if limit_price is not None else price
            needed = round(quantity * worst + self.commission, 2)
            if needed > self._available_cash(user):
                raise ToolError(
                    f"Insufficient buying power: need {needed:.2f}, have {self._available_cash(user):.2f}.",
                    "failed",
                )
        else:
            owned = self.accounts[user]["holdings"].get(symbol, {}).get("shares", 0)
            free = owned - self._reserved_shares(user, symbol)
            if quantity > free:
                raise ToolError(
                    f"You hold {free} unreserved shares of {symbol}, fewer than {quantity}.", "failed"
                )
        order_id = self._new_id("ORD")
        order = {
            "owner": user,
            "symbol": symbol,
            "side": side,
            "order_type": order_type,
            "quantity": quantity,
            "limit_price": limit_price,
            "status": "open",
            "fill_price": None,
            "date": self.today,
        }
        self.orders[order_id] = order
        marketable = limit_price is None or (price <= limit_price if side == "buy" else price >= limit_price)
        if self.market_open and marketable:
            self._fill(user, order, price)
        return {"order_id": order_id, "status": order["status"], "fill_price": order["fill_price"]}

    def get_stock_order_status(self, order_id: str) -> dict[str, Any]:
        """Show the details and status of one of your orders.

        Args:
            order_id: The order's id.

        Returns:
            Symbol, side, type, quantity, limit price, status (open, filled, cancelled), fill price and date.
        """
        order = self._own_order(order_id)
        return {"order_id": order_id, **{k: v for k, v in order.items() if k != "owner"}}

    def cancel_stock_order(self, order_id: str) -> dict[str, Any]:
        """Cancel one of your open orders, releasing the cash or shares it held.

        Args:
            order_id: The order's id.

        Returns:
            The order id and its new status.
        """
        order = self._own_order(order_id)
        if order["status"] != "open":
            raise ToolError(f"Order {order_id} is {order['status']} and cannot be cancelled.", "conflict")
        order["status"] = "cancelled"
        return {"order_id": order_id, "status": "cancelled"}

    def list_stock_orders(
        self, status: Literal["all", "open", "filled", "cancelled"] = "all"
    ) -> dict[str, Any]:
        """List your orders, optionally only those with one status.

        Args:
            status: Which orders to list.

        Returns:
            Each order's id, symbol, side, quantity, type and status.
        """
        user = self._require_login()
        return {
            "orders": [
                {
                    "order_id": oid,
                    "symbol": o["symbol"],
                    "side": o["side"],
                    "quantity": o["quantity"],
                    "order_type": o["order_type"],
                    "status": o["status"],
                }
                for oid, o in sorted(self.orders.items())
                if o["owner"] == user and status in ("all", o["status"])
            ]
        }

    # -------------------------------------------------------------- account

    def get_stock_portfolio(self) -> dict[str, Any]:
        """Show your holdings valued at the last prices, with unrealised profit or loss.

        Returns:
            Holdings (symbol, shares, average cost, price, market value, profit/loss), cash and total value.
        """
        user = self._require_login()
        account = self.accounts[user]
        holdings = []
        for symbol, held in sorted(account["holdings"].items()):
            price = self.stocks[symbol]["price"]
            value = round(held["shares"] * price, 2)
            holdings.append(
                {
                    "symbol": symbol,
                    "shares": held["shares"],
                    "avg_cost": held["avg_cost"],
                    "price": price,
                    "market_value": value,
                    "unrealized_pnl": round(value - held["shares"] * held["avg_cost"], 2),
                }
            )
        invested = round(sum(h["market_value"] for h in holdings), 2)
        return {
            "holdings": holdings,
            "cash": account["cash"],
            "invested_value": invested,
            "total_value": round(invested + account["cash"], 2),
        }

    def get_trading_account(self) -> dict[str, Any]:
        """Show your brokerage account's cash.

        Returns:
            The account id, cash balance, cash held by open buy orders and cash free to trade or withdraw.
        """
        user = self._require_login()
        reserved = round(self._reserved_cash(user), 2)
        return {
            "account_id": self.users[user]["account_id"],
            "cash": self.accounts[user]["cash"],
            "reserved_cash": reserved,
            "available_cash": self._available_cash(user),
        }

    def fund_trading_account(self, amount: float) -> dict[str, Any]:
        """Deposit cash into your brokerage account from your linked bank account.

        Args:
            amount: The amount to deposit, more than 0 and at most 50000 per deposit.

        Returns:
            The deposited amount and the new cash balance.
        """
        user = self._require_login()
        if not 0 < amount <= 50_000:
            raise ToolError("A deposit must be more than 0 and at most 50000.", "invalid")
        account = self.accounts[user]
        account["cash"] = round(account["cash"] + amount, 2)
        return {"deposited": amount, "cash": account["cash"]}

    def withdraw_trading_funds(self, amount: float) -> dict[str, Any]:
        """Withdraw cash from your brokerage account to your linked bank account.

        Args:
            amount: The amount to withdraw; at most the cash not held by open orders.

        Returns:
            The withdrawn amount and the new cash balance.
        """
        user = self._require_login()
        if amount <= 0:
            raise ToolError("The amount must be positive.", "invalid")
        if amount > self._available_cash(user) + 1e-9:
            raise ToolError(f"Only {self._available_cash(user):.2f} is available to withdraw.", "failed")
        account = self.accounts[user]
        account["cash"] = round(account["cash"] - amount, 2)
        return {"withdrawn": amount, "cash": account["cash"]}

    # -------------------------------------------------------------- watchlist and alerts

    def add_stock_to_watchlist(self, symbol: str) -> dict[str, Any]:
        """Add a stock to your watchlist.

        Args:
            symbol: The ticker symbol.

        Returns:
            The watchlist's symbols.
        """
        user = self._require_login()
        self._stock(symbol)
        watchlist = self.watchlists.setdefault(user, [])
        if symbol in watchlist:
            raise ToolError(f"{symbol} is already on your watchlist.", "conflict")
        if len(watchlist) >= 20:
            raise ToolError("A watchlist holds at most 20 symbols.", "conflict")
        watchlist.append(symbol)
        return {"symbols": list(watchlist)}

    def remove_stock_from_watchlist(self, symbol: str) -> dict[str, Any]:
        """Remove a stock from your watchlist.

        Args:
            symbol: The ticker symbol.

        Returns:
            The watchlist's remaining symbols.
        """
        user = self._require_login()
        watchlist = self.watchlists.setdefault(user, [])
        if symbol not in watchlist:
            raise ToolError(f"{symbol} is not on your watchlist.", "not_found")
        watchlist.remove(symbol)
        return {"symbols": list(watchlist)}

    def get_stock_watchlist(self) -> dict[str, Any]:
        """Show the stocks on your watchlist.

        Returns:
            The watchlist's symbols in the order they were added.
        """
        user = self._require_login()
        return {"symbols": list(self.watchlists.get(user, []))}

    def set_price_alert(
        self, symbol: str, target_price: float, direction: Literal["above", "below"]
    ) -> dict[str, Any]:
        """Get alerted when a stock's price moves above or below a target.

        Args:
            symbol: The ticker symbol.
            target_price: The price that triggers the alert.
            direction: Alert when the price rises above or falls below the target.

        Returns:
            The alert's id.
        """
        user = self._require_login()
        price = self._stock(symbol)["price"]
        if target_price <= 0:
            raise ToolError("The target price must be positive.", "invalid")
        if (direction == "above" and price >= target_price) or (
            direction == "below" and price <= target_price
        ):
            raise ToolError(
                f"{symbol} is already {direction} {target_price} (last price {price}).", "invalid"
            )
        alert_id = self._new_id("ALR")
        self.price_alerts[alert_id] = {
            "owner": user,
            "symbol": symbol,
            "target_price": target_price,
            "direction": direction,
            "active": True,
        }
        return {"alert_id": alert_id, "symbol": symbol, "target_price": target_price, "direction": direction}

    def list_price_alerts(self) -> dict[str, Any]:
        """List your active price alerts.

        Returns:
            Each alert's id, symbol, target price and direction.
        """
        user = self._require_login()
        return {
            "alerts": [
                {
                    "alert_id": aid,
                    "symbol": a["symbol"],
                    "target_price": a["target_price"],
                    "direction": a["direction"],
                }
                for aid, a in sorted(self.price_alerts.items())
                if a["owner"] == user and a["active"]
            ]
        }

    def remove_price_alert(self, alert_id: str) -> dict[str, Any]:
        """Delete one of your price alerts.

        Args:
            alert_id: The alert's id.

        Returns:
            The removed alert's id.
        """
        user = self._require_login()
        alert = self.price_alerts.get(alert_id)
        if alert is None or alert["owner"] != user:
            raise ToolError(f"No alert with id {alert_id!r} on your account.", "not_found")
        del self.price_alerts[alert_id]
        return {"alert_id": alert_id, "removed": True}
