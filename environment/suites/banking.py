"""Retail banking: customers, accounts, transfers, payees, debit cards, loans and statements.

Structure that makes data hard: almost everything needs a logged-in session; a person is named by the
user but tools take account ids, found through the holder directory or the customer's account list;
loans and savings need interest arithmetic whose inputs come from other tools' outputs.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import JsonValue

from hardgen.environment.base import Dependency, Suite, ToolError, collect_entities
from hardgen.environment.registry import register_suite
from hardgen.schema import canonical_json

LoanType = Literal["personal", "auto", "home_improvement"]
FreezeReason = Literal["lost", "stolen", "suspicious_activity", "travel", "other"]

_LOGIN_TOOLS = (
    "bank_logout",
    "list_bank_accounts",
    "get_account_balance",
    "transfer_funds",
    "list_account_transactions",
    "get_bank_statement",
    "dispute_transaction",
    "add_payee",
    "list_payees",
    "remove_payee",
    "pay_payee",
    "list_debit_cards",
    "freeze_debit_card",
    "unfreeze_debit_card",
    "set_card_spending_limit",
    "list_loans",
    "get_loan_details",
    "apply_for_loan",
    "make_loan_payment",
    "project_savings_interest",
)
_OWN_ACCOUNT_PARAMS = (
    ("get_account_balance", "account_id"),
    ("transfer_funds", "from_account_id"),
    ("list_account_transactions", "account_id"),
    ("get_bank_statement", "account_id"),
    ("pay_payee", "from_account_id"),
    ("make_loan_payment", "from_account_id"),
    ("apply_for_loan", "deposit_account_id"),
    ("project_savings_interest", "account_id"),
)


def amortized_payment(principal: float, annual_rate_percent: float, term_months: int) -> float:
    """The fixed monthly payment that repays ``principal`` over ``term_months`` at a yearly rate."""
    rate = annual_rate_percent / 100 / 12
    if rate == 0:
        return round(principal / term_months, 2)
    return round(principal * rate / (1 - (1 + rate) ** -term_months), 2)


@register_suite
class BankingSuite(Suite):
    name = "banking"
    domain = "finance"
    description = "Move money between accounts, pay payees, manage debit cards, loans and statements."
    dependencies = (
        *(Dependency("bank_login", tool, "prerequisite") for tool in _LOGIN_TOOLS),
        *(
            Dependency("list_bank_accounts", tool, "value", "accounts[].account_id", param)
            for tool, param in _OWN_ACCOUNT_PARAMS
        ),
        Dependency(
            "find_account_by_holder", "transfer_funds", "value", "accounts[].account_id", "to_account_id"
        ),
        Dependency("list_bank_accounts", "transfer_funds", "value", "accounts[].account_id", "to_account_id"),
        Dependency(
            "list_account_transactions",
            "dispute_transaction",
            "value",
            "transactions[].transaction_id",
            "transaction_id",
        ),
        Dependency(
            "get_bank_statement",
            "dispute_transaction",
            "value",
            "transactions[].transaction_id",
            "transaction_id",
        ),
        Dependency("add_payee", "pay_payee", "value", "payee_id", "payee_id"),
        Dependency("add_payee", "remove_payee", "value", "payee_id", "payee_id"),
        Dependency("list_payees", "pay_payee", "value", "payees[].payee_id", "payee_id"),
        Dependency("list_payees", "remove_payee", "value", "payees[].payee_id", "payee_id"),
        Dependency("list_debit_cards", "freeze_debit_card", "value", "cards[].card_id", "card_id"),
        Dependency("list_debit_cards", "unfreeze_debit_card", "value", "cards[].card_id", "card_id"),
        Dependency("list_debit_cards", "set_card_spending_limit", "value", "cards[].card_id", "card_id"),
        Dependency("freeze_debit_card", "unfreeze_debit_card", "value", "card_id", "card_id"),
        Dependency("list_loans", "get_loan_details", "value", "loans[].loan_id", "loan_id"),
        Dependency("list_loans", "make_loan_payment", "value", "loans[].loan_id", "loan_id"),
        Dependency("apply_for_loan", "get_loan_details", "value", "loan_id", "loan_id"),
        Dependency("apply_for_loan", "make_loan_payment", "value", "loan_id", "loan_id"),
        Dependency("get_loan_details", "make_loan_payment", "value", "monthly_payment", "amount"),
        Dependency("get_loan_details", "estimate_loan_payment", "value", "remaining_balance", "principal"),
        Dependency(
            "get_loan_details", "estimate_loan_payment", "value", "annual_rate_percent", "annual_rate_percent"
        ),
        Dependency("get_loan_details", "estimate_loan_payment", "value", "months_remaining", "term_months"),
        Dependency("get_account_balance", "transfer_funds", "value", "balance", "amount"),
    )

    # State (public attributes, set from data/banking.json).
    today: str
    bank_name: str
    customers: dict[str, dict[str, Any]]
    session_customer: str | None
    accounts: dict[str, dict[str, Any]]
    transactions: list[dict[str, Any]]
    payees: dict[str, dict[str, Any]]
    cards: dict[str, dict[str, Any]]
    loan_products: dict[str, dict[str, Any]]
    loans: dict[str, dict[str, Any]]
    disputes: dict[str, dict[str, Any]]
    next_id: int

    # -------------------------------------------------------------- helpers (private: not tools)

    def _require_login(self) -> str:
        if not self.session_customer:
            raise ToolError(
                "No active banking session: log in with your username and password first.", "precondition"
            )
        return self.session_customer

    def _new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def _account(self, account_id: str) -> dict[str, Any]:
        account = self.accounts.get(account_id)
        if account is None:
            raise ToolError(f"No account with id {account_id!r}.", "not_found")
        return account

    def _own_account(self, account_id: str, *, must_be_open: bool = True) -> dict[str, Any]:
        customer = self._require_login()
        account = self._account(account_id)
        if account["holder_id"] != customer:
            raise ToolError(f"Account {account_id} does not belong to the logged-in customer.", "permission")
        if must_be_open and account["status"] != "open":
            raise ToolError(f"Account {account_id} is {account['status']}.", "conflict")
        return account

    def _own_card(self, card_id: str) -> dict[str, Any]:
        customer = self._require_login()
        card = self.cards.get(card_id)
        if card is None:
            raise ToolError(f"No debit card with id {card_id!r}.", "not_found")
        if self.accounts[card["account_id"]]["holder_id"] != customer:
            raise ToolError(f"Card {card_id} does not belong to the logged-in customer.", "permission")
        return card

    def _own_loan(self, loan_id: str) -> dict[str, Any]:
        customer = self._require_login()
        loan = self.loans.get(loan_id)
        if loan is None:
            raise ToolError(f"No loan with id {loan_id!r}.", "not_found")
        if loan["customer_id"] != customer:
            raise ToolError(f"Loan {loan_id} does not belong to the logged-in customer.", "permission")
        return loan

    def _own_payee(self, payee_id: str) -> dict[str, Any]:
        customer = self._require_login()
        payee = self.payees.get(payee_id)
        if payee is None or payee["owner"] != customer:
            raise ToolError(f"No payee with id {payee_id!r} among your saved payees.", "not_found")
        return payee

    def _post(self, account_id: str, amount: float, description: str, category: str) -> dict[str, Any]:
        """Book one transaction on an account and return it."""
        account = self.accounts[account_id]
        account["balance"] = round(account["balance"] + amount, 2)
        record = {
            "transaction_id": self._new_id("TX"),
            "account_id": account_id,
            "date": self.today,
            "description": description,
            "category": category,
            "amount": round(amount, 2),
            "balance_after": account["balance"],
        }
        self.transactions.append(record)
        return record

    @staticmethod
    def _positive(amount: float, what: str = "The amount") -> float:
        if amount <= 0:
            raise ToolError(f"{what} must be positive.", "invalid")
        if round(amount, 2) != amount:
            raise ToolError(f"{what} has more than two decimal places.", "invalid")
        return amount

    def _debit_check(self, account: dict[str, Any], amount: float, *, allow_overdraft: bool) -> None:
        available = account["balance"] + (account["overdraft_limit"] if allow_overdraft else 0.0)
        if amount > available + 1e-9:
            raise ToolError(f"Insufficient funds: {available:.2f} {account['currency']} available.", "failed")

    def entities(self) -> dict[str, list[JsonValue]]:
        found = collect_entities(json.loads(canonical_json(self.snapshot()["state"])))  # key order free
        found["holder_name"] = [c["name"] for _, c in sorted(self.customers.items())]
        found["username"] = [c["username"] for _, c in sorted(self.customers.items())]
        found["password"] = [c["password"] for _, c in sorted(self.customers.items())]
        found["account_id"] = list[JsonValue](sorted(self.accounts))
        found["transaction_id"] = [t["transaction_id"] for t in self.transactions[-40:]]
        found["payee_id"] = list[JsonValue](sorted(self.payees))
        found["card_id"] = list[JsonValue](sorted(self.cards))
        found["loan_id"] = list[JsonValue](sorted(self.loans))
        found["month"] = sorted({t["date"][:7] for t in self.transactions})
        return found

    # -------------------------------------------------------------- session

    def bank_login(self, username: str, password: str) -> dict[str, Any]:
        """Log in to online banking as a customer.

        Args:
            username: The customer's online-banking username.
            password: The customer's password.

        Returns:
            The customer's id and name.
        """
        for customer_id, customer in sorted(self.customers.items()):
            if customer["username"] == username and customer["password"] == password:
                self.session_customer = customer_id
                return {"customer_id": customer_id, "name": customer["name"], "logged_in": True}
        raise ToolError("Wrong username or password.", "permission")

    def bank_logout(self) -> dict[str, Any]:
        """End the current online-banking session.

        Returns:
            Confirmation that the session was closed.
        """
        customer = self._require_login()
        self.session_customer = None
        return {"customer_id": customer, "logged_out": True}

    # -------------------------------------------------------------- accounts

    def find_account_by_holder(self, holder_name: str) -> dict[str, Any]:
        """Look up the open accounts held by a person, for sending them money (directory search).

        Args:
            holder_name: The account holder's full name, for example "Marcus Lee".

        Returns:
            The holder's name and their open accounts (id, type and currency), without balances.
        """
        wanted = " ".join(holder_name.split()).lower()
        found = [
            {"account_id": aid, "type": a["type"], "currency": a["currency"]}
            for aid, a in sorted(self.accounts.items())
            if a["holder_name"].lower() == wanted and a["status"] == "open"
        ]
        if not found:
            raise ToolError(f"No open account is held by {holder_name!r}.", "not_found")
        return {"holder_name": self.accounts[found[0]["account_id"]]["holder_name"], "accounts": found}

    def list_bank_accounts(self) -> dict[str, Any]:
        """List the logged-in customer's accounts.

        Returns:
            Each account's id, type (checking or savings), currency and status.
        """
        customer = self._require_login()
        return {
            "accounts": [
                {"account_id": aid, "type": a["type"], "currency": a["currency"], "status": a["status"]}
                for aid, a in sorted(self.accounts.items())
                if a["holder_id"] == customer
            ]
        }

    def get_account_balance(self, account_id: str) -> dict[str, Any]:
        """Get the current balance of one of the logged-in customer's accounts.

        Args:
            account_id: The account's id, for example "ACC20481".

        Returns:
            The balance, the currency and the money available including any overdraft.
        """
        account = self._own_account(account_id, must_be_open=False)
        return {
            "account_id": account_id,
            "balance": account["balance"],
            "currency": account["currency"],
            "available": round(account["balance"] + account["overdraft_limit"], 2),
        }

    def transfer_funds(
        self, from_account_id: str, to_account_id: str, amount: float, memo: str = ""
    ) -> dict[str, Any]:
        """Transfer money from one of the customer's accounts to any open account in the same currency.

        Args:
            from_account_id: The id of the customer's account to debit.
            to_account_id: The id of the account to credit (the customer's own or someone else's).
            amount: The amount to transfer, positive, at most two decimals; the overdraft may be used.
            memo: A note shown on both accounts' transactions.

        Returns:
            The transaction id of the debit and the new balance of the debited account.
        """
        source = self._own_account(from_account_id)
        target = self._account(to_account_id)
        if from_account_id == to_account_id:
            raise ToolError("The source and destination accounts are the same.", "invalid")
        if target["status"] != "open":
            raise ToolError(
                f"Account {to_account_id} is {target['status']} and cannot receive money.", "conflict"
            )
        if source["currency"] != target["currency"]:
            raise ToolError(
                f"Transfers between {source['currency']} and {target['currency']} accounts are not possible.",
                "invalid",
            )
        self._positive(amount)
        self._debit_check(source, amount, allow_overdraft=True)
        note = f" - {memo.strip()}" if memo.strip() else ""
        debit = self._post(from_account_id, -amount, f"Transfer to {target['holder_name']}{note}", "transfer")
        self._post(to_account_id, amount, f"Transfer from {source['holder_name']}{note}", "transfer")
        return {
            "transaction_id": debit["transaction_id"],
            "from_account_id": from_account_id,
            "to_account_id": to_account_id,
            "amount": amount,
            "new_balance": source["balance"],
        }

    def list_account_transactions(self, account_id: str, limit: int = 10) -> dict[str, Any]:
        """List the most recent transactions of one of the customer's accounts, newest first.

        Args:
            account_id: The account's id.
            limit: How many transactions to return, from 1 to 50.

        Returns:
            Transactions with id, date, description, category, amount (negative for debits) and balance after.
        """
        self._own_account(account_id, must_be_open=False)
        if not 1 <= limit <= 50:
            raise ToolError("limit must be between 1 and 50.", "invalid")
        rows = [t for t in self.transactions if t["account_id"] == account_id]
        rows = sorted(rows, key=lambda t: (t["date"], t["transaction_id"]), reverse=True)[:limit]
        return {
            "account_id": account_id,
            "transactions": [{k: v for k, v in t.items() if k != "account_id"} for t in rows],
        }

    def get_bank_statement(self, account_id: str, month: str) -> dict[str, Any]:
        """Produce the monthly statement of one of the customer's accounts.

        Args:
            account_id: The account's id.
            month: The statement month as YYYY-MM, not after the current month.

        Returns:
            Opening and closing balance, money in and out, and the month's transactions in date order.
        """
        account = self._own_account(account_id, must_be_open=False)
        if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
            raise ToolError("month must look like YYYY-MM.", "invalid")
        if month > self.today[:7]:
            raise ToolError(f"{month} is in the future (today is {self.today}).", "invalid")
        rows = [t for t in self.transactions if t["account_id"] == account_id]
        later = sum(t["amount"] for t in rows if t["date"][:7] > month)
        inside = sorted(
            (t for t in rows if t["date"][:7] == month), key=lambda t: (t["date"], t["transaction_id"])
        )
        closing = round(account["balance"] - later, 2)
        money_in = round(sum(t["amount"] for t in inside if t["amount"] > 0), 2)
        money_out = round(-sum(t["amount"] for t in inside if t["amount"] < 0), 2)
        return {
            "account_id": account_id,
            "month": month,
            "currency": account["currency"],
            "opening_balance": round(closing - money_in + money_out, 2),
            "closing_balance": closing,
            "money_in": money_in,
            "money_out": money_out,
            "transactions": [
                {
                    "transaction_id": t["transaction_id"],
                    "date": t["date"],
                    "description": t["description"],
                    "amount": t["amount"],
                }
                for t in inside
            ],
        }

    def dispute_transaction(self, transaction_id: str, reason: str) -> dict[str, Any]:
        """Dispute a debit on one of the customer's accounts (an unknown or wrong charge).

        Args:
            transaction_id: The id of the debit transaction.
            reason: Why the charge is disputed.

        Returns:
            The dispute case id and its status.
        """
        customer = self._require_login()
        tx = next((t for t in self.transactions if t["transaction_id"] == transaction_id), None)
        if tx is None:
            raise ToolError(f"No transaction with id {transaction_id!r}.", "not_found")
        if self.accounts[tx["account_id"]]["holder_id"] != customer:
            raise ToolError("This transaction is on another customer's account.", "permission")
        if tx["amount"] >= 0:
            raise ToolError("Only debits (money out) can be disputed.", "invalid")
        if not reason.strip():
            raise ToolError("Give a reason for the dispute.", "invalid")
        if any(d["transaction_id"] == transaction_id for d in self.disputes.values()):
            raise ToolError(f"Transaction {transaction_id} is already disputed.", "conflict")
        case_id = self._new_id("DSP")
        self.disputes[case_id] = {
            "transaction_id": transaction_id,
            "customer_id": customer,
            "reason": reason.strip(),
            "status": "open",
        }
        return {
            "case_id": case_id,
            "transaction_id": transaction_id,
            "amount": tx["amount"],
            "status": "open",
        }

    # -------------------------------------------------------------- payees

    def add_payee(self, name: str, account_number: str, bank: str) -> dict[str, Any]:
        """Save a payee (a company or person the customer pays bills to).

        Args:
            name: The payee's name.
            account_number: The payee's account number, 8 digits.
            bank: The name of the payee's bank.

        Returns:
            The new payee's id.
        """
        customer = self._require_login()
        if not re.fullmatch(r"[0-9]{8}", account_number):
            raise ToolError("A payee account number has exactly 8 digits.", "invalid")
        if not name.strip() or not bank.strip():
            raise ToolError("The payee name and bank must not be empty.", "invalid")
        for payee in self.payees.values():
            if payee["owner"] == customer and payee["account_number"] == account_number:
                raise ToolError(
                    f"Account {account_number} is already saved as payee {payee['name']!r}.", "conflict"
                )
        payee_id = self._new_id("PAY")
        self.payees[payee_id] = {
            "owner": customer,
            "name": name.strip(),
            "account_number": account_number,
            "bank": bank.strip(),
        }
        return {"payee_id": payee_id, "name": name.strip()}

    def list_payees(self) -> dict[str, Any]:
        """List the logged-in customer's saved payees.

        Returns:
            Each payee's id, name, bank and the last four digits of their account number.
        """
        customer = self._require_login()
        return {
            "payees": [
                {
                    "payee_id": pid,
                    "name": p["name"],
                    "bank": p["bank"],
                    "account_last4": p["account_number"][-4:],
                }
                for pid, p in sorted(self.payees.items())
                if p["owner"] == customer
            ]
        }

    def remove_payee(self, payee_id: str) -> dict[str, Any]:
        """Delete a saved payee.

        Args:
            payee_id: The payee's id.

        Returns:
            The removed payee's id and name.
        """
        payee = self._own_payee(payee_id)
        del self.payees[payee_id]
        return {"payee_id": payee_id, "name": payee["name"], "removed": True}

    def pay_payee(
        self, payee_id: str, from_account_id: str, amount: float, reference: str = ""
    ) -> dict[str, Any]:
        """Pay a saved payee from one of the customer's accounts (no overdraft for bill payments).

        Args:
            payee_id: The id of a saved payee.
            from_account_id: The id of the customer's account to pay from.
            amount: The amount to pay, positive, at most two decimals.
            reference: The reference the payee sees, e.g. an invoice number.

        Returns:
            The payment's transaction id and the account's new balance.
        """
        payee = self._own_payee(payee_id)
        account = self._own_account(from_account_id)
        self._positive(amount)
        self._debit_check(account, amount, allow_overdraft=False)
        note = f" ({reference.strip()})" if reference.strip() else ""
        record = self._post(from_account_id, -amount, f"Payment to {payee['name']}{note}", "bill_payment")
        return {
            "transaction_id": record["transaction_id"],
            "payee": payee["name"],
            "amount": amount,
            "new_balance": account["balance"],
        }

    # -------------------------------------------------------------- cards

    def list_debit_cards(self) -> dict[str, Any]:
        """List the debit cards linked to the logged-in customer's accounts.

        Returns:
            Each card's id, linked account, last four digits, status and daily spending limit.
        """
        customer = self._require_login()
        return {
            "cards": [
                {
                    "card_id": cid,
                    "account_id": c["account_id"],
                    "last4": c["last4"],
                    "status": c["status"],
                    "daily_limit": c["daily_limit"],
                }
                for cid, c in sorted(self.cards.items())
                if self.accounts[c["account_id"]]["holder_id"] == customer
            ]
        }

    def freeze_debit_card(self, card_id: str, reason: FreezeReason) -> dict[str, Any]:
        """Freeze a debit card so that no payment or withdrawal goes through.

        Args:
            card_id: The card's id.
            reason: Why the card is frozen.

        Returns:
            The card's id and its new status.
        """
        card = self._own_card(card_id)
        if card["status"] == "frozen":
            raise ToolError(f"Card {card_id} is already frozen.", "conflict")
        card["status"] = "frozen"
        card["freeze_reason"] = reason
        return {"card_id": card_id, "status": "frozen", "reason": reason}

    def unfreeze_debit_card(self, card_id: str) -> dict[str, Any]:
        """Reactivate a frozen debit card (cards reported stolen cannot be reactivated).

        Args:
            card_id: The card's id.

        Returns:
            The card's id and its new status.
        """
        card = self._own_card(card_id)
        if card["status"] != "frozen":
            raise ToolError(f"Card {card_id} is not frozen.", "conflict")
        if card["freeze_reason"] == "stolen":
            raise ToolError("A card reported stolen cannot be reactivated; order a new one.", "permission")
        card["status"] = "active"
        card["freeze_reason"] = None
        return {"card_id": card_id, "status": "active"}

    def set_card_spending_limit(self, card_id: str, daily_limit: float) -> dict[str, Any]:
        """Change the daily spending limit of a debit card.

        Args:
            card_id: The card's id.
            daily_limit: The new limit per day, between 50 and 5000.

        Returns:
            The card's id with its old and new limits.
        """
        card = self._own_card(card_id)
        if not 50 <= daily_limit <= 5000:
            raise ToolError("The daily limit must be between 50 and 5000.", "invalid")
        old = card["daily_limit"]
        card["daily_limit"] = float(daily_limit)
        return {"card_id": card_id, "old_limit": old, "daily_limit": card["daily_limit"]}

    # -------------------------------------------------------------- loans and interest

    def list_loans(self) -> dict[str, Any]:
        """List the logged-in customer's loans.

        Returns:
            Each loan's id, type, status and remaining balance.
        """
        customer = self._require_login()
        return {
            "loans": [
                {
                    "loan_id": lid,
                    "type": ln["type"],
                    "status": ln["status"],
                    "remaining_balance": ln["remaining_balance"],
                }
                for lid, ln in sorted(self.loans.items())
                if ln["customer_id"] == customer
            ]
        }

    def get_loan_details(self, loan_id: str) -> dict[str, Any]:
        """Show the terms and the state of one of the customer's loans.

        Args:
            loan_id: The loan's id.

        Returns:
            Type, principal, yearly rate in percent, term, monthly payment, remaining balance, months left.
        """
        loan = self._own_loan(loan_id)
        return {
            "loan_id": loan_id,
            "type": loan["type"],
            "status": loan["status"],
            "principal": loan["principal"],
            "annual_rate_percent": loan["annual_rate"],
            "term_months": loan["term_months"],
            "monthly_payment": loan["monthly_payment"],
            "remaining_balance": loan["remaining_balance"],
            "months_remaining": loan["months_remaining"],
        }

    def apply_for_loan(
        self, loan_type: LoanType, amount: float, term_months: int, deposit_account_id: str
    ) -> dict[str, Any]:
        """Apply for a loan; an approved loan is paid out at once into a checking accounts.

        Args:
            loan_type: The loan product; each has its own yearly rate, maximum amount and term range.
            amount: The amount to borrow.
            term_months: The repayment period in months.
            deposit_account_id: The id of the customer's checking account that receives the money.

        Returns:
            The loan id, the yearly rate in percent and the monthly payment.
        """
        customer = self._require_login()
        account = self._own_account(deposit_account_id)
        if account["type"] != "checking":
            raise ToolError("Loans are paid out into a checking account only.", "invalid")
        product = self.loan_products[loan_type]
        self._positive(amount)
        if amount > product["max_amount"]:
            raise ToolError(f"A {loan_type} loan is at most {product['max_amount']:.2f}.", "invalid")
        if not product["min_term_months"] <= term_months <= product["max_term_months"]:
            raise ToolError(
                f"A {loan_type} loan runs {product['min_term_months']}-{product['max_term_months']} months.",
                "invalid",
            )
        active = [
            ln for ln in self.loans.values() if ln["customer_id"] == customer and ln["status"] == "active"
        ]
        if len(active) >= 2:
            raise ToolError("Customers may hold at most two active loans.", "conflict")
        payment = amortized_payment(amount, product["annual_rate"], term_months)
        loan_id = self._new_id("LN")
        self.loans[loan_id] = {
            "customer_id": customer,
            "type": loan_type,
            "principal": float(amount),
            "annual_rate": product["annual_rate"],
            "term_months": term_months,
            "remaining_balance": float(amount),
            "monthly_payment": payment,
            "months_remaining": term_months,
            "status": "active",
        }
        self._post(deposit_account_id, amount, f"Loan payout {loan_id}", "loan")
        return {
            "loan_id": loan_id,
            "annual_rate_percent": product["annual_rate"],
            "monthly_payment": payment,
            "deposited_to": deposit_account_id,
        }

    def make_loan_payment(self, loan_id: str, from_account_id: str, amount: float) -> dict[str, Any]:
        """Pay towards an active loan from one of the customer's accounts (no overdraft).

        Args:
            loan_id: The loan's id.
            from_account_id: The id of the customer's account to pay from.
            amount: The amount to pay, at most the remaining balance.

        Returns:
            The payment's transaction id, the loan's remaining balance and its status.
        """
        loan = self._own_loan(loan_id)
        account = self._own_account(from_account_id)
        if loan["status"] != "active":
            raise ToolError(f"Loan {loan_id} is {loan['status']}.", "conflict")
        self._positive(amount)
        if amount > loan["remaining_balance"] + 1e-9:
            raise ToolError(f"The remaining balance is only {loan['remaining_balance']:.2f}.", "invalid")
        self._debit_check(account, amount, allow_overdraft=False)
        record = self._post(from_account_id, -amount, f"Loan payment {loan_id}", "loan")
        loan["remaining_balance"] = round(loan["remaining_balance"] - amount, 2)
        if loan["remaining_balance"] <= 0:
            loan["status"], loan["months_remaining"] = "paid_off", 0
        elif amount >= loan["monthly_payment"]:
            loan["months_remaining"] = max(1, loan["months_remaining"] - 1)
        return {
            "transaction_id": record["transaction_id"],
            "loan_id": loan_id,
            "remaining_balance": loan["remaining_balance"],
            "status": loan["status"],
        }

    def estimate_loan_payment(
        self, principal: float, annual_rate_percent: float, term_months: int
    ) -> dict[str, Any]:
        """Compute the fixed monthly payment of an amortised loan (no account needed).

        Args:
            principal: The amount borrowed, positive.
            annual_rate_percent: The yearly interest rate in percent, e.g. 6.4; zero or more.
            term_months: The number of monthly payments, from 1 to 480.

        Returns:
            The monthly payment, the total paid and the total interest, rounded to cents.
        """
        if principal <= 0:
            raise ToolError("The principal must be positive.", "invalid")
        if annual_rate_percent < 0 or annual_rate_percent > 100:
            raise ToolError("The yearly rate must be between 0 and 100 percent.", "invalid")
        if not 1 <= term_months <= 480:
            raise ToolError("The term must be between 1 and 480 months.", "invalid")
        payment = amortized_payment(principal, annual_rate_percent, term_months)
        total = round(payment * term_months, 2)
        return {
            "monthly_payment": payment,
            "total_paid": total,
            "total_interest": round(total - principal, 2),
        }

    def project_savings_interest(self, account_id: str, months: int) -> dict[str, Any]:
        """Project a savings account's balance with interest compounded monthly at its current rate.

        Args:
            account_id: The id of one of the customer's savings accounts.
            months: How many months ahead, from 1 to 600.

        Returns:
            The yearly rate in percent, the projected balance and the interest earned.
        """
        account = self._own_account(account_id)
        if account["type"] != "savings":
            raise ToolError(
                f"Account {account_id} is a {account['type']} account and earns no interest.", "invalid"
            )
        if not 1 <= months <= 600:
            raise ToolError("months must be between 1 and 600.", "invalid")
        projected = round(account["balance"] * (1 + account["interest_rate"] / 100 / 12) ** months, 2)
        return {
            "account_id": account_id,
            "annual_rate_percent": account["interest_rate"],
            "months": months,
            "current_balance": account["balance"],
            "projected_balance": projected,
            "interest_earned": round(projected - account["balance"], 2),
        }
