"""Cases for the banking suite (default state: Alice Chen is customer CUST1001, username achen)."""

from __future__ import annotations

from tests.suite_cases import Case

ALICE = ("bank_login", {"username": "achen", "password": "Maple!2026"})
TOMAS = ("bank_login", {"username": "talvarez", "password": "ridge#4410"})
GRACE = ("bank_login", {"username": "gokafor", "password": "lantern-22"})
NO_SESSION = "tool:precondition"

CASES: list[Case] = [
    # session
    Case(
        "bank_login",
        {"username": "achen", "password": "Maple!2026"},
        True,
        expect={"customer_id": "CUST1001"},
    ),
    Case("bank_login", {"username": "achen", "password": "maple!2026"}, False, "tool:permission"),
    Case("bank_login", {"username": "achen"}, False, "env:missing_argument"),
    Case("bank_logout", {}, True, setup=(ALICE,), expect={"logged_out": True}),
    Case("bank_logout", {}, False, NO_SESSION),
    # accounts
    Case(
        "find_account_by_holder",
        {"holder_name": "  marcus   LEE "},
        True,
        expect={
            "holder_name": "Marcus Lee",
            "accounts": [
                {"account_id": "ACC20517", "type": "checking", "currency": "USD"},
                {"account_id": "ACC20518", "type": "savings", "currency": "USD"},
            ],
        },
    ),
    Case(
        "find_account_by_holder",
        {"holder_name": "Daniel Weber"},
        True,
        id="closed-accounts-hidden",
        expect={"accounts": [{"account_id": "ACC20904", "type": "checking", "currency": "USD"}]},
    ),
    Case("find_account_by_holder", {"holder_name": "Weber"}, False, "tool:not_found"),
    Case(
        "list_bank_accounts",
        {},
        True,
        setup=(ALICE,),
        expect={
            "accounts": [
                {"account_id": "ACC20481", "type": "checking", "currency": "USD", "status": "open"},
                {"account_id": "ACC20482", "type": "savings", "currency": "USD", "status": "open"},
            ]
        },
    ),
    Case("list_bank_accounts", {}, False, NO_SESSION),
    Case(
        "get_account_balance",
        {"account_id": "ACC20481"},
        True,
        setup=(ALICE,),
        expect={"balance": 4820.55, "available": 5320.55},
    ),
    Case("get_account_balance", {"account_id": "ACC20481"}, False, NO_SESSION),
    Case("get_account_balance", {"account_id": "ACC20517"}, False, "tool:permission", setup=(ALICE,)),
    Case("get_account_balance", {"account_id": "ACC99999"}, False, "tool:not_found", setup=(ALICE,)),
    Case(
        "transfer_funds",
        {"from_account_id": "ACC20481", "to_account_id": "ACC20517", "amount": 100.0},
        True,
        setup=(ALICE,),
        expect={"new_balance": 4720.55, "transaction_id": "TX50001"},
    ),
    Case(
        "transfer_funds",
        {"from_account_id": "ACC20481", "to_account_id": "ACC20482", "amount": 5200, "memo": "overdraft"},
        True,
        setup=(ALICE,),
        id="into-overdraft",
        expect={"new_balance": -379.45},
    ),
    Case(
        "transfer_funds",
        {"from_account_id": "ACC20481", "to_account_id": "ACC20517", "amount": 100.0},
        False,
        NO_SESSION,
    ),
    Case(
        "transfer_funds",
        {"from_account_id": "ACC20481", "to_account_id": "ACC21011", "amount": 10.0},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="currency-mismatch",
    ),
    Case(
        "transfer_funds",
        {"from_account_id": "ACC20481", "to_account_id": "ACC20517", "amount": 5400.0},
        False,
        "tool:failed",
        setup=(ALICE,),
        id="insufficient",
    ),
    Case(
        "transfer_funds",
        {"from_account_id": "ACC20481", "to_account_id": "ACC19977", "amount": 10.0},
        False,
        "tool:conflict",
        setup=(ALICE,),
        id="closed-target",
    ),
    Case(
        "transfer_funds",
        {"from_account_id": "ACC20481", "to_account_id": "ACC20481", "amount": 10.0},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="same-account",
    ),
    Case(
        "transfer_funds",
        {"from_account_id": "ACC20481", "to_account_id": "ACC20517", "amount": -5.0},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="negative",
    ),
    Case(
        "transfer_funds",
        {"from_account_id": "ACC20481", "to_account_id": "ACC20517", "amount": "100"},
        False,
        "env:wrong_type",
    ),
    Case(
        "list_account_transactions",
        {"account_id": "ACC20481", "limit": 2},
        True,
        setup=(ALICE,),
        expect={
            "transactions": [
                {
                    "transaction_id": "TX70009",
                    "date": "2026-02-22",
                    "description": "Rivermist Power & Light",
                    "category": "utilities",
                    "amount": -127.13,
                    "balance_after": 4820.55,
                },
                {
                    "transaction_id": "TX70008",
                    "date": "2026-02-11",
                    "description": "City Transit pass",
                    "category": "transport",
                    "amount": -76.22,
                    "balance_after": 4947.68,
                },
            ]
        },
    ),
    Case(
        "list_account_transactions",
        {"account_id": "ACC20481", "limit": 0},
        False,
        "tool:invalid",
        setup=(ALICE,),
    ),
    Case(
        "get_bank_statement",
        {"account_id": "ACC20481", "month": "2026-02"},
        True,
        setup=(ALICE,),
        expect={"opening_balance": 5153.99, "closing_balance": 4820.55, "money_in": 0, "money_out": 333.44},
    ),
    Case(
        "get_bank_statement",
        {"account_id": "ACC20481", "month": "2026-1"},
        False,
        "tool:invalid",
        setup=(ALICE,),
    ),
    Case(
        "get_bank_statement",
        {"account_id": "ACC20481", "month": "2026-04"},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="future",
    ),
    Case(
        "dispute_transaction",
        {"transaction_id": "TX70005", "reason": "I never bought this"},
        True,
        setup=(ALICE,),
        expect={"case_id": "DSP50001", "amount": -171.63, "status": "open"},
    ),
    Case(
        "dispute_transaction",
        {"transaction_id": "TX70003", "reason": "wrong"},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="credit",
    ),
    Case(
        "dispute_transaction",
        {"transaction_id": "TX70013", "reason": "wrong"},
        False,
        "tool:permission",
        setup=(ALICE,),
        id="other-customer",
    ),
    Case(
        "dispute_transaction",
        {"transaction_id": "TX70005", "reason": "again"},
        False,
        "tool:conflict",
        setup=(ALICE, ("dispute_transaction", {"transaction_id": "TX70005", "reason": "unknown"})),
    ),
    Case(
        "dispute_transaction",
        {"transaction_id": "TX1", "reason": "x"},
        False,
        "tool:not_found",
        setup=(ALICE,),
    ),
    # payees
    Case(
        "add_payee",
        {"name": "Stonebrook Gym", "account_number": "44120987", "bank": "Greenbank"},
        True,
        setup=(ALICE,),
        expect={"payee_id": "PAY50001"},
    ),
    Case(
        "add_payee",
        {"name": "Stonebrook Gym", "account_number": "4412", "bank": "Greenbank"},
        False,
        "tool:invalid",
        setup=(ALICE,),
    ),
    Case(
        "add_payee",
        {"name": "Power", "account_number": "88231907", "bank": "Greenbank"},
        False,
        "tool:conflict",
        setup=(ALICE,),
        id="duplicate",
    ),
    Case(
        "list_payees",
        {},
        True,
        setup=(ALICE,),
        expect={
            "payees": [
                {
                    "payee_id": "PAY301",
                    "name": "Rivermist Power & Light",
                    "bank": "Stonebrook Credit Union",
                    "account_last4": "1907",
                },
                {
                    "payee_id": "PAY302",
                    "name": "Greenleaf Property Management",
                    "bank": "Crescent Hollow Bank",
                    "account_last4": "0388",
                },
            ]
        },
    ),
    Case("list_payees", {}, False, NO_SESSION),
    Case("remove_payee", {"payee_id": "PAY301"}, True, setup=(ALICE,), expect={"removed": True}),
    Case(
        "remove_payee", {"payee_id": "PAY303"}, False, "tool:not_found", setup=(ALICE,), id="other-customer"
    ),
    Case(
        "pay_payee",
        {"payee_id": "PAY301", "from_account_id": "ACC20481", "amount": 120.5, "reference": "INV-2026-02"},
        True,
        setup=(ALICE,),
        expect={"new_balance": 4700.05},
    ),
    Case(
        "pay_payee",
        {"payee_id": "PAY301", "from_account_id": "ACC20481", "amount": 4900.0},
        False,
        "tool:failed",
        setup=(ALICE,),
        id="no-overdraft-for-bills",
    ),
    Case(
        "pay_payee",
        {"payee_id": "PAY301", "from_account_id": "ACC20481", "amount": 10.001},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="sub-cent",
    ),
    # cards
    Case(
        "list_debit_cards",
        {},
        True,
        setup=(ALICE,),
        expect={
            "cards": [
                {
                    "card_id": "CRD7701",
                    "account_id": "ACC20481",
                    "last4": "4417",
                    "status": "active",
                    "daily_limit": 1500.0,
                },
            ]
        },
    ),
    Case(
        "list_debit_cards",
        {},
        True,
        setup=(TOMAS,),
        id="frozen",
        expect={
            "cards": [
                {
                    "card_id": "CRD7704",
                    "account_id": "ACC20702",
                    "last4": "0934",
                    "status": "frozen",
                    "daily_limit": 500.0,
                },
            ]
        },
    ),
    Case("list_debit_cards", {}, False, NO_SESSION),
    Case(
        "freeze_debit_card",
        {"card_id": "CRD7701", "reason": "lost"},
        True,
        setup=(ALICE,),
        expect={"status": "frozen"},
    ),
    Case("freeze_debit_card", {"card_id": "CRD7701", "reason": "bored"}, False, "env:invalid_value"),
    Case(
        "freeze_debit_card", {"card_id": "CRD7704", "reason": "lost"}, False, "tool:conflict", setup=(TOMAS,)
    ),
    Case(
        "freeze_debit_card",
        {"card_id": "CRD7702", "reason": "lost"},
        False,
        "tool:permission",
        setup=(ALICE,),
    ),
    Case("unfreeze_debit_card", {"card_id": "CRD7704"}, True, setup=(TOMAS,), expect={"status": "active"}),
    Case("unfreeze_debit_card", {"card_id": "CRD7701"}, False, "tool:conflict", setup=(ALICE,)),
    Case(
        "unfreeze_debit_card",
        {"card_id": "CRD7701"},
        False,
        "tool:permission",
        id="stolen",
        setup=(ALICE, ("freeze_debit_card", {"card_id": "CRD7701", "reason": "stolen"})),
    ),
    Case(
        "set_card_spending_limit",
        {"card_id": "CRD7701", "daily_limit": 2500},
        True,
        setup=(ALICE,),
        expect={"old_limit": 1500.0, "daily_limit": 2500.0},
    ),
    Case(
        "set_card_spending_limit",
        {"card_id": "CRD7701", "daily_limit": 10},
        False,
        "tool:invalid",
        setup=(ALICE,),
    ),
    Case(
        "set_card_spending_limit",
        {"card_id": "CRD0000", "daily_limit": 100},
        False,
        "tool:not_found",
        setup=(ALICE,),
    ),
    # loans
    Case(
        "list_loans",
        {},
        True,
        setup=(ALICE,),
        expect={
            "loans": [
                {"loan_id": "LN9002", "type": "personal", "status": "active", "remaining_balance": 2890.15},
            ]
        },
    ),
    Case("list_loans", {}, False, NO_SESSION),
    Case(
        "get_loan_details",
        {"loan_id": "LN9002"},
        True,
        setup=(ALICE,),
        expect={"monthly_payment": 228.19, "annual_rate_percent": 8.9, "months_remaining": 13},
    ),
    Case("get_loan_details", {"loan_id": "LN9001"}, False, "tool:permission", setup=(ALICE,)),
    Case("get_loan_details", {"loan_id": "LN1"}, False, "tool:not_found", setup=(ALICE,)),
    Case(
        "apply_for_loan",
        {"loan_type": "auto", "amount": 20000, "term_months": 48, "deposit_account_id": "ACC20481"},
        True,
        setup=(ALICE,),
        expect={"loan_id": "LN50001", "annual_rate_percent": 6.4, "monthly_payment": 473.38},
    ),
    Case(
        "apply_for_loan",
        {"loan_type": "auto", "amount": 20000, "term_months": 48, "deposit_account_id": "ACC20482"},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="savings-deposit",
    ),
    Case(
        "apply_for_loan",
        {"loan_type": "personal", "amount": 30000, "term_months": 24, "deposit_account_id": "ACC20481"},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="too-much",
    ),
    Case(
        "apply_for_loan",
        {"loan_type": "personal", "amount": 3000, "term_months": 72, "deposit_account_id": "ACC20481"},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="term-too-long",
    ),
    Case(
        "apply_for_loan",
        {"loan_type": "personal", "amount": 1000, "term_months": 12, "deposit_account_id": "ACC20481"},
        False,
        "tool:conflict",
        id="two-active-loans",
        setup=(
            ALICE,
            (
                "apply_for_loan",
                {
                    "loan_type": "personal",
                    "amount": 1000,
                    "term_months": 12,
                    "deposit_account_id": "ACC20481",
                },
            ),
        ),
    ),
    Case(
        "apply_for_loan",
        {"loan_type": "mortgage", "amount": 1000, "term_months": 12, "deposit_account_id": "ACC20481"},
        False,
        "env:invalid_value",
    ),
    Case(
        "make_loan_payment",
        {"loan_id": "LN9002", "from_account_id": "ACC20481", "amount": 228.19},
        True,
        setup=(ALICE,),
        expect={"remaining_balance": 2661.96, "status": "active"},
    ),
    Case(
        "make_loan_payment",
        {"loan_id": "LN9002", "from_account_id": "ACC20482", "amount": 2890.15},
        True,
        setup=(ALICE,),
        id="pay-off",
        expect={"remaining_balance": 0.0, "status": "paid_off"},
    ),
    Case(
        "make_loan_payment",
        {"loan_id": "LN9002", "from_account_id": "ACC20481", "amount": 3000},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="more-than-owed",
    ),
    Case(
        "make_loan_payment",
        {"loan_id": "LN9003", "from_account_id": "ACC20815", "amount": 10},
        False,
        "tool:conflict",
        setup=(GRACE,),
        id="paid-off",
    ),
    Case(
        "estimate_loan_payment",
        {"principal": 10000, "annual_rate_percent": 6, "term_months": 36},
        True,
        expect={"monthly_payment": 304.22, "total_paid": 10951.92, "total_interest": 951.92},
    ),
    Case(
        "estimate_loan_payment",
        {"principal": 1200, "annual_rate_percent": 0, "term_months": 12},
        True,
        id="zero-rate",
        expect={"monthly_payment": 100.0, "total_interest": 0.0},
    ),
    Case(
        "estimate_loan_payment",
        {"principal": 10000, "annual_rate_percent": 6, "term_months": 0},
        False,
        "tool:invalid",
    ),
    Case(
        "estimate_loan_payment",
        {"principal": "ten", "annual_rate_percent": 6, "term_months": 12},
        False,
        "env:wrong_type",
    ),
    Case(
        "project_savings_interest",
        {"account_id": "ACC20482", "months": 12},
        True,
        setup=(ALICE,),
        expect={"annual_rate_percent": 3.25, "projected_balance": 15732.42, "interest_earned": 502.42},
    ),
    Case(
        "project_savings_interest",
        {"account_id": "ACC20481", "months": 12},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="checking",
    ),
    Case("project_savings_interest", {"account_id": "ACC20482", "months": 12}, False, NO_SESSION),
]
