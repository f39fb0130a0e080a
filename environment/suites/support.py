"""Support tickets: customers, agents, tickets with a status machine, comments, SLAs and a knowledge base.

Structure that makes data hard: a ticket is created only for a customer id, found by name or email;
every change to a ticket needs a logged-in agent; a ticket moves open -> in_progress -> resolved ->
closed one step at a time, starting work needs an assignee from the ticket's team, and closing needs a
resolved ticket. Knowledge-base articles are linked by the id a search returns.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from typing import Any, Literal

from hardgen.environment.base import Dependency, Suite, ToolError
from hardgen.environment.registry import register_suite

Category = Literal["billing", "technical", "account", "shipping"]
CategoryChoice = Literal["any", "billing", "technical", "account", "shipping"]
StatusChoice = Literal["any", "open", "in_progress", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
_PRIORITIES = ("low", "normal", "high", "urgent")
# Status moves an agent may make with update_ticket_status; closing has its own tool.
_MOVES = {
    ("open", "in_progress"),
    ("in_progress", "open"),
    ("in_progress", "resolved"),
    ("resolved", "in_progress"),
}
_NEXT_STATUS = {"open": "in_progress", "in_progress": "resolved", "resolved": "closed"}
_TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")
_MAX_TAGS = 10


def _customer_lookups(after: str) -> tuple[Dependency, ...]:
    return (
        Dependency("search_customers_by_name", after, "value", "customers[].customer_id", "customer_id"),
        Dependency("find_customer_by_email", after, "value", "customer_id", "customer_id"),
    )


_TICKET_USERS = (
    "get_support_ticket",
    "assign_support_ticket",
    "update_ticket_status",
    "set_ticket_priority",
    "escalate_support_ticket",
    "check_ticket_sla",
    "add_ticket_comment",
    "link_kb_article",
    "add_ticket_tags",
)
_AGENT_ONLY = (
    "list_support_agents",
    "assign_support_ticket",
    "update_ticket_status",
    "close_support_ticket",
    "set_ticket_priority",
    "escalate_support_ticket",
    "add_ticket_comment",
    "link_kb_article",
    "add_ticket_tags",
    "remove_ticket_tag",
    "support_agent_logout",
)


@register_suite
class SupportSuite(Suite):
    name = "support"
    domain = "support tickets"
    description = (
        "A help desk: find customers, open and work tickets, track SLAs, link knowledge-base articles."
    )
    dependencies = (
        *(Dependency("support_agent_login", after, "prerequisite") for after in _AGENT_ONLY),
        Dependency("assign_support_ticket", "update_ticket_status", "prerequisite"),
        Dependency("update_ticket_status", "close_support_ticket", "prerequisite"),
        *_customer_lookups("create_support_ticket"),
        *_customer_lookups("get_support_customer"),
        *_customer_lookups("list_customer_tickets"),
        Dependency("get_support_ticket", "get_support_customer", "value", "customer_id", "customer_id"),
        *(
            Dependency("create_support_ticket", after, "value", "ticket_id", "ticket_id")
            for after in _TICKET_USERS
        ),
        *(
            Dependency("list_customer_tickets", after, "value", "tickets[].ticket_id", "ticket_id")
            for after in _TICKET_USERS
        ),
        *(
            Dependency("search_support_tickets", after, "value", "tickets[].ticket_id", "ticket_id")
            for after in _TICKET_USERS
        ),
        Dependency("support_agent_login", "assign_support_ticket", "value", "agent_id", "agent_id"),
        Dependency("support_agent_login", "search_support_tickets", "value", "agent_id", "assignee_id"),
        Dependency("list_support_agents", "assign_support_ticket", "value", "agents[].agent_id", "agent_id"),
        Dependency(
            "list_support_agents", "search_support_tickets", "value", "agents[].agent_id", "assignee_id"
        ),
        Dependency("search_knowledge_base", "get_kb_article", "value", "articles[].article_id", "article_id"),
        Dependency(
            "search_knowledge_base", "link_kb_article", "value", "articles[].article_id", "article_id"
        ),
    )

    # State (public attributes, set from data/support.json).
    now: str
    customers: dict[str, dict[str, Any]]
    agents: dict[str, dict[str, Any]]
    session_agent: str | None
    tickets: dict[str, dict[str, Any]]
    kb_articles: dict[str, dict[str, Any]]
    sla_hours: dict[str, float]
    tier_sla_factor: dict[str, float]
    next_id: int

    # -------------------------------------------------------------- helpers (private: not tools)

    def _require_agent(self) -> str:
        if not self.session_agent:
            raise ToolError("No agent is logged in: log in to the help desk first.", "precondition")
        return self.session_agent

    def _new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def _customer(self, customer_id: str) -> dict[str, Any]:
        if customer_id not in self.customers:
            raise ToolError(f"No customer with id {customer_id!r}.", "not_found")
        return self.customers[customer_id]

    def _ticket(self, ticket_id: str) -> dict[str, Any]:
        if ticket_id not in self.tickets:
            raise ToolError(f"No ticket with id {ticket_id!r}.", "not_found")
        return self.tickets[ticket_id]

    def _open_ticket(self, ticket_id: str, action: str) -> dict[str, Any]:
        ticket = self._ticket(ticket_id)
        if ticket["status"] == "closed":
            raise ToolError(f"Ticket {ticket_id} is closed: you cannot {action}.", "conflict")
        return ticket

    def _agent(self, agent_id: str) -> dict[str, Any]:
        if agent_id not in self.agents:
            raise ToolError(f"No agent with id {agent_id!r}.", "not_found")
        return self.agents[agent_id]

    def _sla_due(self, ticket: dict[str, Any]) -> tuple[datetime, float]:
        tier = self.customers[ticket["customer_id"]]["tier"]
        hours = self.sla_hours[ticket["priority"]] * self.tier_sla_factor[tier]
        return datetime.fromisoformat(ticket["created_at"]) + timedelta(hours=hours), hours

    @staticmethod
    def _summary(ticket_id: str, ticket: dict[str, Any]) -> dict[str, Any]:
        return {
            "ticket_id": ticket_id,
            "subject": ticket["subject"],
            "status": ticket["status"],
            "priority": ticket["priority"],
            "category": ticket["category"],
            "assignee": ticket["assignee"],
        }

    # -------------------------------------------------------------- customers

    def search_customers_by_name(self, name: str) -> dict[str, Any]:
        """Find customers whose name contains the given text (case-insensitive).

        Args:
            name: All or part of the customer's name, at least 2 characters.

        Returns:
            The matching customers with their ids, names, emails and companies.
        """
        needle = name.strip().lower()
        if len(needle) < 2:
            raise ToolError("Give at least 2 characters of the name.", "invalid")
        found = [
            {"customer_id": cid, "name": c["name"], "email": c["email"], "company": c["company"]}
            for cid, c in self.customers.items()
            if needle in c["name"].lower()
        ]
        if not found:
            raise ToolError(f"No customer's name contains {name!r}.", "not_found")
        return {"customers": found}

    def find_customer_by_email(self, email: str) -> dict[str, Any]:
        """Find the customer with an exact email address.

        Args:
            email: The customer's email address.

        Returns:
            The customer's id and name.
        """
        for cid, c in self.customers.items():
            if c["email"].lower() == email.strip().lower():
                return {"customer_id": cid, "name": c["name"], "email": c["email"]}
        raise ToolError(f"No customer has the email {email!r}.", "not_found")

    def get_support_customer(self, customer_id: str) -> dict[str, Any]:
        """Show a customer's profile and how many of their tickets are not yet closed.

        Args:
            customer_id: The customer's id, for example "C1001".

        Returns:
            Name, email, phone, company, support tier, country and the count of unclosed tickets.
        """
        c = self._customer(customer_id)
        unclosed = sum(
            1 for t in self.tickets.values() if t["customer_id"] == customer_id and t["status"] != "closed"
        )
        return {"customer_id": customer_id, **c, "unclosed_tickets": unclosed}

    def list_customer_tickets(
        self,
        customer_id: str,
        status: StatusChoice = "any",
    ) -> dict[str, Any]:
        """List a customer's tickets.

        Args:
            customer_id: The customer's id.
            status: Only tickets in this status, or "any".

        Returns:
            The tickets with their id, subject, status, priority, category and assignee.
        """
        self._customer(customer_id)
        return {
            "customer_id": customer_id,
            "tickets": [
                self._summary(tid, t)
                for tid, t in self.tickets.items()
                if t["customer_id"] == customer_id and status in ("any", t["status"])
            ],
        }

    # -------------------------------------------------------------- tickets

    def create_support_ticket(
        self,
        customer_id: str,
        subject: str,
        description: str,
        category: Category = "technical",
        priority: Priority = "normal",
    ) -> dict[str, Any]:
        """Open a new support ticket for a customer.

        Args:
            customer_id: The id of the customer the ticket is for.
            subject: A one-line summary of the problem.
            description: The problem in the customer's words.
            category: Which team handles it.
            priority: How urgent it is.

        Returns:
            The new ticket's id, its status (open) and when its SLA falls due.
        """
        self._customer(customer_id)
        if not subject.strip() or not description.strip():
            raise ToolError("A ticket needs a subject and a description.", "invalid")
        for tid, t in self.tickets.items():
            same = t["subject"].strip().lower() == subject.strip().lower()
            if t["customer_id"] == customer_id and same and t["status"] != "closed":
                raise ToolError(
                    f"Ticket {tid} with this subject is already open for the customer.", "conflict"
                )
        ticket_id = self._new_id("TCK")
        self.tickets[ticket_id] = {
            "customer_id": customer_id,
            "subject": subject.strip(),
            "description": description.strip(),
            "category": category,
            "priority": priority,
            "status": "open",
            "assignee": None,
            "tags": [],
            "comments": [],
            "escalated": False,
            "linked_articles": [],
            "created_at": self.now,
            "resolved_at": None,
            "closed_at": None,
        }
        due, _ = self._sla_due(self.tickets[ticket_id])
        return {"ticket_id": ticket_id, "status": "open", "priority": priority, "sla_due_at": due.isoformat()}

    def get_support_ticket(self, ticket_id: str) -> dict[str, Any]:
        """Show everything about a ticket, comments included.

        Args:
            ticket_id: The ticket's id, for example "TCK5001".

        Returns:
            Customer id, subject, description, category, priority, status, assignee, tags, comments,
            escalation flag, linked articles and timestamps.
        """
        return {"ticket_id": ticket_id, **copy.deepcopy(self._ticket(ticket_id))}

    def search_support_tickets(
        self,
        status: StatusChoice = "any",
        priority: Literal["any", "low", "normal", "high", "urgent"] = "any",
        category: CategoryChoice = "any",
        tag: str = "",
        assignee_id: str = "",
        unassigned_only: bool = False,
    ) -> dict[str, Any]:
        """Search the ticket queue by status, priority, category, tag and assignee.

        Args:
            status: Only tickets in this status, or "any".
            priority: Only tickets with this priority, or "any".
            category: Only tickets of this category (team), or "any".
            tag: Only tickets with this tag; empty for any.
            assignee_id: Only tickets assigned to this agent id; empty for any.
            unassigned_only: Only tickets nobody is assigned to.

        Returns:
            The matching tickets with their id, subject, status, priority, category and assignee.
        """
        if assignee_id:
            self._agent(assignee_id)
        found = []
        for tid, t in self.tickets.items():
            if status not in ("any", t["status"]) or priority not in ("any", t["priority"]):
                continue
            if category not in ("any", t["category"]):
                continue
            if (tag and tag not in t["tags"]) or (assignee_id and t["assignee"] != assignee_id):
                continue
            if unassigned_only and t["assignee"]:
                continue
            found.append(self._summary(tid, t))
        return {"tickets": found, "count": len(found)}

    # -------------------------------------------------------------- agents

    def support_agent_login(self, email: str, password: str) -> dict[str, Any]:
        """Log in to the help desk as an agent.

        Args:
            email: The agent's work email.
            password: The agent's password.

        Returns:
            The agent's id, name, team and role.
        """
        for aid, a in self.agents.items():
            if a["email"].lower() == email.strip().lower() and a["password"] == password:
                if not a["active"]:
                    raise ToolError(f"The account of {a['name']} is deactivated.", "permission")
                self.session_agent = aid
                return {"agent_id": aid, "name": a["name"], "team": a["team"], "role": a["role"]}
        raise ToolError("Wrong email or password.", "permission")

    def support_agent_logout(self) -> dict[str, Any]:
        """Log the current agent out of the help desk.

        Returns:
            The id of the agent who was logged out.
        """
        agent_id = self._require_agent()
        self.session_agent = None
        return {"logged_out": agent_id}

    def list_support_agents(self, team: CategoryChoice = "any") -> dict[str, Any]:
        """List help-desk agents with their workload; needs a logged-in agent.

        Args:
            team: Only agents of this team, or "any".

        Returns:
            Each agent's id, name, team, role, whether active, and how many unresolved tickets they hold.
        """
        self._require_agent()
        agents = []
        for aid, a in self.agents.items():
            if team not in ("any", a["team"]):
                continue
            load = sum(
                1
                for t in self.tickets.values()
                if t["assignee"] == aid and t["status"] in ("open", "in_progress")
            )
            agents.append(
                {
                    "agent_id": aid,
                    "name": a["name"],
                    "team": a["team"],
                    "role": a["role"],
                    "active": a["active"],
                    "open_tickets": load,
                }
            )
        return {"agents": agents}

    def assign_support_ticket(self, ticket_id: str, agent_id: str) -> dict[str, Any]:
        """Assign a ticket to an active agent of the ticket's team.

        Args:
            ticket_id: The ticket's id.
            agent_id: The id of the agent who takes it.

        Returns:
            The ticket id, the new assignee and the ticket's status.
        """
        self._require_agent()
        ticket = self._ticket(ticket_id)
        if ticket["status"] in ("resolved", "closed"):
            raise ToolError(
                f"Ticket {ticket_id} is {ticket['status']}; only unresolved tickets are assigned.", "conflict"
            )
        agent = self._agent(agent_id)
        if not agent["active"]:
            raise ToolError(f"{agent['name']} is not active and cannot take tickets.", "conflict")
        if agent["team"] != ticket["category"]:
            raise ToolError(
                f"{agent['name']} works on the {agent['team']} team; this is a {ticket['category']} ticket.",
                "conflict",
            )
        ticket["assignee"] = agent_id
        return {"ticket_id": ticket_id, "assignee": agent_id, "status": ticket["status"]}

    # -------------------------------------------------------------- ticket lifecycle

    def update_ticket_status(
        self, ticket_id: str, status: Literal["open", "in_progress", "resolved"], note: str = ""
    ) -> dict[str, Any]:
        """Move a ticket one step along open -> in_progress -> resolved (or one step back).

        Steps cannot be skipped. Starting work needs an assignee; resolving needs a resolution note.
        Use close_support_ticket to close a resolved ticket.

        Args:
            ticket_id: The ticket's id.
            status: The status to move to.
            note: What was done; required when resolving.

        Returns:
            The ticket id with its previous and new status.
        """
        self._require_agent()
        ticket = self._open_ticket(ticket_id, "change its status")
        current = ticket["status"]
        if current == status:
            raise ToolError(f"Ticket {ticket_id} is already {status}.", "conflict")
        if (current, status) not in _MOVES:
            raise ToolError(
                f"Ticket {ticket_id} is {current}; it cannot go to {status} directly (next step: "
                f"{_NEXT_STATUS[current]}).",
                "conflict",
            )
        if status == "in_progress" and not ticket["assignee"]:
            raise ToolError(
                f"Ticket {ticket_id} has no assignee: assign it before starting work.", "precondition"
            )
        if status == "resolved" and not note.strip():
            raise ToolError("Resolving a ticket needs a note saying how it was resolved.", "invalid")
        ticket["status"] = status
        ticket["resolved_at"] = self.now if status == "resolved" else None
        if note.strip():
            ticket["comments"].append(
                {
                    "comment_id": self._new_id("CM"),
                    "author": self.session_agent,
                    "body": note.strip(),
                    "internal": True,
                    "created_at": self.now,
                }
            )
        return {"ticket_id": ticket_id, "previous_status": current, "status": status}

    def close_support_ticket(self, ticket_id: str) -> dict[str, Any]:
        """Close a resolved ticket for good.

        Args:
            ticket_id: The ticket's id.

        Returns:
            The ticket id, its status (closed) and when it was closed.
        """
        self._require_agent()
        ticket = self._open_ticket(ticket_id, "close it again")
        if ticket["status"] != "resolved":
            raise ToolError(
                f"Ticket {ticket_id} is {ticket['status']}: resolve it before closing.", "precondition"
            )
        ticket["status"] = "closed"
        ticket["closed_at"] = self.now
        return {"ticket_id": ticket_id, "status": "closed", "closed_at": self.now}

    def set_ticket_priority(self, ticket_id: str, priority: Priority) -> dict[str, Any]:
        """Change a ticket's priority; its SLA due time follows.

        Args:
            ticket_id: The ticket's id.
            priority: The new priority.

        Returns:
            The previous and new priority and the new SLA due time.
        """
        self._require_agent()
        ticket = self._open_ticket(ticket_id, "change its priority")
        if ticket["priority"] == priority:
            raise ToolError(f"Ticket {ticket_id} already has priority {priority}.", "conflict")
        previous, ticket["priority"] = ticket["priority"], priority
        due, _ = self._sla_due(ticket)
        return {
            "ticket_id": ticket_id,
            "previous_priority": previous,
            "priority": priority,
            "sla_due_at": due.isoformat(),
        }

    def escalate_support_ticket(self, ticket_id: str, reason: str) -> dict[str, Any]:
        """Escalate an unresolved ticket to its team's supervisor and raise its priority one level.

        Args:
            ticket_id: The ticket's id.
            reason: Why it needs escalation.

        Returns:
            The supervisor it was escalated to and the new priority.
        """
        self._require_agent()
        ticket = self._ticket(ticket_id)
        if ticket["status"] in ("resolved", "closed"):
            raise ToolError(
                f"Ticket {ticket_id} is {ticket['status']}; only unresolved tickets escalate.", "conflict"
            )
        if ticket["escalated"]:
            raise ToolError(f"Ticket {ticket_id} is already escalated.", "conflict")
        if not reason.strip():
            raise ToolError("Give a reason for the escalation.", "invalid")
        supervisor = next(
            aid
            for aid, a in self.agents.items()
            if a["team"] == ticket["category"] and a["role"] == "supervisor"
        )
        level = min(_PRIORITIES.index(ticket["priority"]) + 1, len(_PRIORITIES) - 1)
        ticket.update(escalated=True, assignee=supervisor, priority=_PRIORITIES[level])
        ticket["comments"].append(
            {
                "comment_id": self._new_id("CM"),
                "author": self.session_agent,
                "body": f"Escalated: {reason.strip()}",
                "internal": True,
                "created_at": self.now,
            }
        )
        return {"ticket_id": ticket_id, "escalated_to": supervisor, "priority": ticket["priority"]}

    def check_ticket_sla(self, ticket_id: str) -> dict[str, Any]:
        """Check a ticket against its resolution SLA (by priority and the customer's tier).

        Args:
            ticket_id: The ticket's id.

        Returns:
            The SLA hours, the due time, whether it is breached, and for unresolved tickets the hours
            remaining (negative when overdue).
        """
        ticket = self._ticket(ticket_id)
        due, hours = self._sla_due(ticket)
        result: dict[str, Any] = {
            "ticket_id": ticket_id,
            "priority": ticket["priority"],
            "sla_hours": hours,
            "due_at": due.isoformat(),
            "status": ticket["status"],
        }
        if ticket["resolved_at"]:
            result["breached"] = datetime.fromisoformat(ticket["resolved_at"]) > due
        else:
            remaining = (due - datetime.fromisoformat(self.now)).total_seconds() / 3600
            result.update(breached=remaining < 0, hours_remaining=round(remaining, 2))
        return result

    # -------------------------------------------------------------- comments, tags, knowledge base

    def add_ticket_comment(self, ticket_id: str, body: str, internal: bool = False) -> dict[str, Any]:
        """Add a comment to a ticket as the logged-in agent.

        Args:
            ticket_id: The ticket's id.
            body: The comment text.
            internal: True for a note only agents see, false for a reply the customer sees.

        Returns:
            The new comment's id and how many comments the ticket has.
        """
        agent_id = self._require_agent()
        ticket = self._open_ticket(ticket_id, "comment on it")
        if not body.strip():
            raise ToolError("The comment is empty.", "invalid")
        comment_id = self._new_id("CM")
        ticket["comments"].append(
            {
                "comment_id": comment_id,
                "author": agent_id,
                "body": body.strip(),
                "internal": internal,
                "created_at": self.now,
            }
        )
        return {"ticket_id": ticket_id, "comment_id": comment_id, "comment_count": len(ticket["comments"])}

    def add_ticket_tags(self, ticket_id: str, tags: list[str]) -> dict[str, Any]:
        """Add tags to a ticket (lowercase letters, digits and hyphens; at most 10 per ticket).

        Args:
            ticket_id: The ticket's id.
            tags: The tags to add, for example ["refund", "vip"].

        Returns:
            The ticket's tags after the change.
        """
        self._require_agent()
        ticket = self._open_ticket(ticket_id, "tag it")
        if not tags:
            raise ToolError("Give at least one tag.", "invalid")
        bad = [t for t in tags if not _TAG.match(t)]
        if bad:
            raise ToolError(f"Invalid tag(s) {bad}: use lowercase letters, digits and hyphens.", "invalid")
        merged = list(dict.fromkeys([*ticket["tags"], *tags]))
        if len(merged) > _MAX_TAGS:
            raise ToolError(f"A ticket has at most {_MAX_TAGS} tags.", "invalid")
        ticket["tags"] = merged
        return {"ticket_id": ticket_id, "tags": list(merged)}

    def remove_ticket_tag(self, ticket_id: str, tag: str) -> dict[str, Any]:
        """Remove one tag from a ticket.

        Args:
            ticket_id: The ticket's id.
            tag: The tag to remove.

        Returns:
            The ticket's tags after the change.
        """
        self._require_agent()
        ticket = self._open_ticket(ticket_id, "untag it")
        if tag not in ticket["tags"]:
            raise ToolError(f"Ticket {ticket_id} has no tag {tag!r}.", "not_found")
        ticket["tags"] = [t for t in ticket["tags"] if t != tag]
        return {"ticket_id": ticket_id, "tags": list(ticket["tags"])}

    def search_knowledge_base(self, query: str, category: CategoryChoice = "any") -> dict[str, Any]:
        """Search help articles by keywords, best match first.

        Args:
            query: Words describing the problem, at least 3 characters.
            category: Only articles of this category, or "any".

        Returns:
            Matching articles with their id, title, category and a relevance score.
        """
        words = set(re.findall(r"[a-z0-9]+", query.lower()))
        if len(query.strip()) < 3 or not words:
            raise ToolError("The search query needs at least 3 characters.", "invalid")
        scored = []
        for aid, art in self.kb_articles.items():
            if category not in ("any", art["category"]):
                continue
            vocabulary = set(art["keywords"]) | set(re.findall(r"[a-z0-9]+", art["title"].lower()))
            score = len(words & vocabulary)
            if score:
                scored.append(
                    {"article_id": aid, "title": art["title"], "category": art["category"], "score": score}
                )
        scored.sort(key=lambda a: (-a["score"], a["article_id"]))
        return {"articles": scored, "count": len(scored)}

    def get_kb_article(self, article_id: str) -> dict[str, Any]:
        """Read a knowledge-base article.

        Args:
            article_id: The article's id, for example "KB201".

        Returns:
            The article's title, category, keywords and summary.
        """
        if article_id not in self.kb_articles:
            raise ToolError(f"No article with id {article_id!r}.", "not_found")
        return {"article_id": article_id, **copy.deepcopy(self.kb_articles[article_id])}

    def link_kb_article(self, ticket_id: str, article_id: str) -> dict[str, Any]:
        """Link a knowledge-base article to a ticket, so the customer gets it with the next reply.

        Args:
            ticket_id: The ticket's id.
            article_id: The article's id.

        Returns:
            The articles linked to the ticket after the change.
        """
        self._require_agent()
        ticket = self._open_ticket(ticket_id, "link articles to it")
        if article_id not in self.kb_articles:
            raise ToolError(f"No article with id {article_id!r}.", "not_found")
        if article_id in ticket["linked_articles"]:
            raise ToolError(f"Article {article_id} is already linked to {ticket_id}.", "conflict")
        ticket["linked_articles"].append(article_id)
        return {"ticket_id": ticket_id, "linked_articles": list(ticket["linked_articles"])}
