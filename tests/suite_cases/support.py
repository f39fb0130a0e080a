"""Cases for the support suite (default state: no agent logged in, "now" is 2026-03-02T10:00:00)."""

from __future__ import annotations

from typing import Any

from tests.suite_cases import Case

Setup = tuple[tuple[str, dict[str, Any]], ...]

NINA: Setup = (("support_agent_login", {"email": "nina.patel@helpdesk.example", "password": "Nina#2026"}),)
ON_TCK5008: Setup = (
    *NINA,
    ("assign_support_ticket", {"ticket_id": "TCK5008", "agent_id": "AG102"}),
    ("update_ticket_status", {"ticket_id": "TCK5008", "status": "in_progress"}),
)
NEW_TICKET = {
    "customer_id": "C1004",
    "subject": "Wrong size delivered",
    "description": "I ordered a medium jacket and got a small one.",
    "category": "shipping",
}

CASES: list[Case] = [
    # customers
    Case(
        "search_customers_by_name",
        {"name": "okafor"},
        True,
        expect={
            "customers": [
                {
                    "customer_id": "C1008",
                    "name": "Daniel Okafor",
                    "email": "daniel.okafor@zenpay.ng",
                    "company": "ZenPay Ltd",
                }
            ]
        },
    ),
    Case("search_customers_by_name", {"name": "Zebulon"}, False, "tool:not_found"),
    Case("search_customers_by_name", {"name": "a"}, False, "tool:invalid", id="too-short"),
    Case("find_customer_by_email", {"email": "Priya.Raman@gmail.com"}, True, expect={"customer_id": "C1004"}),
    Case("find_customer_by_email", {"email": "nobody@example.com"}, False, "tool:not_found"),
    Case(
        "get_support_customer",
        {"customer_id": "C1001"},
        True,
        expect={"tier": "premium", "unclosed_tickets": 2},
    ),
    Case("get_support_customer", {"customer_id": "C9999"}, False, "tool:not_found"),
    Case(
        "list_customer_tickets",
        {"customer_id": "C1001", "status": "open"},
        True,
        expect={"customer_id": "C1001"},
    ),
    Case("list_customer_tickets", {"customer_id": "C9999"}, False, "tool:not_found"),
    # tickets
    Case(
        "create_support_ticket",
        NEW_TICKET,
        True,
        expect={"ticket_id": "TCK5101", "status": "open", "sla_due_at": "2026-03-03T10:00:00"},
    ),
    Case("create_support_ticket", {**NEW_TICKET, "customer_id": "C9999"}, False, "tool:not_found"),
    Case("create_support_ticket", {**NEW_TICKET, "subject": "  "}, False, "tool:invalid", id="no-subject"),
    Case(
        "create_support_ticket",
        {**NEW_TICKET, "customer_id": "C1001", "subject": "Invoice charged twice for February"},
        False,
        "tool:conflict",
        id="duplicate",
    ),
    Case(
        "get_support_ticket",
        {"ticket_id": "TCK5003"},
        True,
        expect={"status": "in_progress", "assignee": "AG102"},
    ),
    Case("get_support_ticket", {"ticket_id": "TCK0000"}, False, "tool:not_found"),
    Case("search_support_tickets", {"status": "open", "unassigned_only": True}, True, expect={"count": 4}),
    Case("search_support_tickets", {"assignee_id": "AG102"}, True, expect={"count": 2}, id="by-assignee"),
    Case("search_support_tickets", {"assignee_id": "AG999"}, False, "tool:not_found"),
    # agents
    Case(
        "support_agent_login",
        {"email": "nina.patel@helpdesk.example", "password": "Nina#2026"},
        True,
        expect={"agent_id": "AG101", "team": "technical", "role": "supervisor"},
    ),
    Case(
        "support_agent_login",
        {"email": "nina.patel@helpdesk.example", "password": "nina"},
        False,
        "tool:permission",
    ),
    Case(
        "support_agent_login",
        {"email": "grace.liu@helpdesk.example", "password": "gl-onleave-1"},
        False,
        "tool:permission",
        id="deactivated",
    ),
    Case("support_agent_logout", {}, True, setup=NINA, expect={"logged_out": "AG101"}),
    Case("support_agent_logout", {}, False, "tool:precondition"),
    Case(
        "list_support_agents",
        {"team": "billing"},
        True,
        setup=NINA,
        expect={
            "agents": [
                {
                    "agent_id": "AG104",
                    "name": "Omar Haddad",
                    "team": "billing",
                    "role": "supervisor",
                    "active": True,
                    "open_tickets": 0,
                },
                {
                    "agent_id": "AG105",
                    "name": "Elena Petrova",
                    "team": "billing",
                    "role": "agent",
                    "active": True,
                    "open_tickets": 0,
                },
            ]
        },
    ),
    Case("list_support_agents", {}, False, "tool:precondition"),
    Case(
        "assign_support_ticket",
        {"ticket_id": "TCK5008", "agent_id": "AG102"},
        True,
        setup=NINA,
        expect={"assignee": "AG102", "status": "open"},
    ),
    Case("assign_support_ticket", {"ticket_id": "TCK5008", "agent_id": "AG102"}, False, "tool:precondition"),
    Case(
        "assign_support_ticket",
        {"ticket_id": "TCK5001", "agent_id": "AG102"},
        False,
        "tool:conflict",
        setup=NINA,
        id="wrong-team",
    ),
    Case(
        "assign_support_ticket",
        {"ticket_id": "TCK5008", "agent_id": "AG103"},
        False,
        "tool:conflict",
        setup=NINA,
        id="inactive-agent",
    ),
    Case(
        "assign_support_ticket",
        {"ticket_id": "TCK5005", "agent_id": "AG102"},
        False,
        "tool:conflict",
        setup=NINA,
        id="resolved",
    ),
    Case(
        "assign_support_ticket",
        {"ticket_id": "TCK5008", "agent_id": "AG999"},
        False,
        "tool:not_found",
        setup=NINA,
    ),
    # status machine
    Case(
        "update_ticket_status",
        {"ticket_id": "TCK5008", "status": "in_progress"},
        True,
        setup=(*NINA, ("assign_support_ticket", {"ticket_id": "TCK5008", "agent_id": "AG102"})),
        expect={"previous_status": "open", "status": "in_progress"},
    ),
    Case(
        "update_ticket_status",
        {"ticket_id": "TCK5002", "status": "resolved", "note": "Fixed the bouncing address; reset worked."},
        True,
        setup=NINA,
        expect={"previous_status": "in_progress", "status": "resolved"},
        id="resolve",
    ),
    Case(
        "update_ticket_status",
        {"ticket_id": "TCK5008", "status": "open"},
        True,
        setup=ON_TCK5008,
        expect={"previous_status": "in_progress", "status": "open"},
        id="back-to-queue",
    ),
    Case(
        "update_ticket_status", {"ticket_id": "TCK5008", "status": "in_progress"}, False, "tool:precondition"
    ),
    Case(
        "update_ticket_status",
        {"ticket_id": "TCK5001", "status": "in_progress"},
        False,
        "tool:precondition",
        setup=NINA,
        id="unassigned",
    ),
    Case(
        "update_ticket_status",
        {"ticket_id": "TCK5001", "status": "resolved", "note": "done"},
        False,
        "tool:conflict",
        setup=NINA,
        id="skip",
    ),
    Case(
        "update_ticket_status",
        {"ticket_id": "TCK5003", "status": "resolved"},
        False,
        "tool:invalid",
        setup=NINA,
        id="no-note",
    ),
    Case(
        "update_ticket_status",
        {"ticket_id": "TCK5006", "status": "in_progress"},
        False,
        "tool:conflict",
        setup=NINA,
        id="closed",
    ),
    Case(
        "close_support_ticket",
        {"ticket_id": "TCK5005"},
        True,
        setup=NINA,
        expect={"status": "closed", "closed_at": "2026-03-02T10:00:00"},
    ),
    Case("close_support_ticket", {"ticket_id": "TCK5005"}, False, "tool:precondition", id="no-agent"),
    Case(
        "close_support_ticket",
        {"ticket_id": "TCK5003"},
        False,
        "tool:precondition",
        setup=NINA,
        id="not-resolved",
    ),
    Case(
        "close_support_ticket",
        {"ticket_id": "TCK5006"},
        False,
        "tool:conflict",
        setup=NINA,
        id="already-closed",
    ),
    Case(
        "set_ticket_priority",
        {"ticket_id": "TCK5004", "priority": "urgent"},
        True,
        setup=NINA,
        expect={"previous_priority": "high", "priority": "urgent", "sla_due_at": "2026-03-01T19:00:00"},
    ),
    Case("set_ticket_priority", {"ticket_id": "TCK5004", "priority": "urgent"}, False, "tool:precondition"),
    Case(
        "set_ticket_priority",
        {"ticket_id": "TCK5004", "priority": "high"},
        False,
        "tool:conflict",
        setup=NINA,
    ),
    Case(
        "escalate_support_ticket",
        {"ticket_id": "TCK5008", "reason": "Affects every Android user."},
        True,
        setup=NINA,
        expect={"escalated_to": "AG101", "priority": "urgent"},
    ),
    Case("escalate_support_ticket", {"ticket_id": "TCK5008", "reason": "x"}, False, "tool:precondition"),
    Case(
        "escalate_support_ticket",
        {"ticket_id": "TCK5005", "reason": "x"},
        False,
        "tool:conflict",
        setup=NINA,
        id="resolved",
    ),
    Case(
        "escalate_support_ticket",
        {"ticket_id": "TCK5008", "reason": "again"},
        False,
        "tool:conflict",
        setup=(*NINA, ("escalate_support_ticket", {"ticket_id": "TCK5008", "reason": "first"})),
        id="twice",
    ),
    Case(
        "escalate_support_ticket", {"ticket_id": "TCK5008", "reason": " "}, False, "tool:invalid", setup=NINA
    ),
    # SLA
    Case(
        "check_ticket_sla",
        {"ticket_id": "TCK5001"},
        True,
        expect={"sla_hours": 6.0, "due_at": "2026-03-02T12:00:00", "breached": False, "hours_remaining": 2.0},
    ),
    Case(
        "check_ticket_sla",
        {"ticket_id": "TCK5003"},
        True,
        expect={"sla_hours": 2.0, "breached": True, "hours_remaining": -3.5},
        id="breached",
    ),
    Case("check_ticket_sla", {"ticket_id": "TCK5005"}, True, expect={"breached": True}, id="resolved-late"),
    Case("check_ticket_sla", {"ticket_id": "TCK0000"}, False, "tool:not_found"),
    # comments and tags
    Case(
        "add_ticket_comment",
        {"ticket_id": "TCK5001", "body": "Refund of the duplicate charge requested."},
        True,
        setup=NINA,
        expect={"comment_id": "CM5101", "comment_count": 1},
    ),
    Case("add_ticket_comment", {"ticket_id": "TCK5001", "body": "hello"}, False, "tool:precondition"),
    Case("add_ticket_comment", {"ticket_id": "TCK5001", "body": ""}, False, "tool:invalid", setup=NINA),
    Case(
        "add_ticket_comment",
        {"ticket_id": "TCK5006", "body": "late"},
        False,
        "tool:conflict",
        setup=NINA,
        id="closed",
    ),
    Case(
        "add_ticket_tags",
        {"ticket_id": "TCK5001", "tags": ["duplicate-charge", "invoice"]},
        True,
        setup=NINA,
        expect={"tags": ["invoice", "duplicate-charge"]},
    ),
    Case("add_ticket_tags", {"ticket_id": "TCK5001", "tags": ["vip"]}, False, "tool:precondition"),
    Case("add_ticket_tags", {"ticket_id": "TCK5001", "tags": ["Bad Tag"]}, False, "tool:invalid", setup=NINA),
    Case(
        "add_ticket_tags", {"ticket_id": "TCK5001", "tags": []}, False, "tool:invalid", setup=NINA, id="empty"
    ),
    Case(
        "remove_ticket_tag",
        {"ticket_id": "TCK5003", "tag": "bug"},
        True,
        setup=NINA,
        expect={"tags": ["api"]},
    ),
    Case("remove_ticket_tag", {"ticket_id": "TCK5003", "tag": "bug"}, False, "tool:precondition"),
    Case("remove_ticket_tag", {"ticket_id": "TCK5003", "tag": "vip"}, False, "tool:not_found", setup=NINA),
    # knowledge base
    Case(
        "search_knowledge_base",
        {"query": "Customer was charged twice"},
        True,
        expect={
            "articles": [
                {
                    "article_id": "KB202",
                    "title": "Duplicate charges and pending authorisations",
                    "category": "billing",
                    "score": 2,
                }
            ],
            "count": 1,
        },
    ),
    Case(
        "search_knowledge_base",
        {"query": "login", "category": "account"},
        True,
        expect={"count": 2},
        id="cat",
    ),
    Case("search_knowledge_base", {"query": "ab"}, False, "tool:invalid"),
    Case("get_kb_article", {"article_id": "KB201"}, True, expect={"title": "How to reset your password"}),
    Case("get_kb_article", {"article_id": "KB999"}, False, "tool:not_found"),
    Case(
        "link_kb_article",
        {"ticket_id": "TCK5001", "article_id": "KB202"},
        True,
        setup=NINA,
        expect={"linked_articles": ["KB202"]},
    ),
    Case("link_kb_article", {"ticket_id": "TCK5001", "article_id": "KB202"}, False, "tool:precondition"),
    Case(
        "link_kb_article",
        {"ticket_id": "TCK5001", "article_id": "KB999"},
        False,
        "tool:not_found",
        setup=NINA,
    ),
    Case(
        "link_kb_article",
        {"ticket_id": "TCK5001", "article_id": "KB202"},
        False,
        "tool:conflict",
        setup=(*NINA, ("link_kb_article", {"ticket_id": "TCK5001", "article_id": "KB202"})),
        id="twice",
    ),
]
