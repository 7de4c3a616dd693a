"""A support-ticket system toolkit: open, find, assign, comment on, move through statuses and close tickets.

State (``self.state``, loaded from the config): ``tickets`` (``{"id", "title", "description",
"priority", "status", "assignee", "comments", "resolution"}``), ``agents`` (who tickets may be
assigned to), ``current_user`` (the author of comments) and ``next_number`` (new tickets get
``TCK-<next_number>``, from 1001). Status changes follow a fixed workflow (``TRANSITIONS``); an
illegal move is a ``ToolError`` naming the allowed ones. ``seed_config(seed)`` builds a varied
deterministic queue; ``default_config()`` is ``seed_config(0)``.

May import: the standard library and ``opentoollab.tools.base``.
"""

from __future__ import annotations

import random
import re
from typing import Any, ClassVar, Literal

from .base import Toolkit, ToolError, ToolkitError, clone, find_by_id

Priority = Literal["low", "medium", "high", "urgent"]
Status = Literal["open", "in_progress", "resolved", "closed"]
PRIORITIES = ("low", "medium", "high", "urgent")
# status → statuses it may move to; closed is final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("in_progress", "closed"),
    "in_progress": ("open", "resolved", "closed"),
    "resolved": ("in_progress", "closed"),
    "closed": (),
}
FIRST_NUMBER = 1001
MAX_TICKETS = 2_000
MAX_TEXT = 5_000


def _summary(ticket: dict[str, Any]) -> dict[str, Any]:
    return {"id": ticket["id"], "title": ticket["title"], "status": ticket["status"], "priority": ticket["priority"],
            "assignee": ticket["assignee"], "comments": len(ticket["comments"])}


def _full(ticket: dict[str, Any]) -> dict[str, Any]:
    return {**ticket, "comments": [dict(c) for c in ticket["comments"]]}


# ---------------------------------------------------------------------------------- seeding
_AGENTS = ("alice", "bob", "carmen", "dev", "erin", "farid", "gwen", "hiro")
_CUSTOMERS = ("j.smith", "m.garcia", "l.chen", "a.okafor", "s.novak", "r.patel")
_ISSUES: tuple[tuple[str, str], ...] = (
    ("Cannot log in after password reset", "After resetting my password I get 'invalid credentials' on every attempt."),
    ("Invoice shows the wrong amount", "My March invoice charges for 12 seats but we only have 9."),
    ("App crashes when uploading photos", "The mobile app closes as soon as I pick more than 3 photos to upload."),
    ("Feature request: dark mode", "Several people on our team would like a dark theme for the dashboard."),
    ("VPN disconnects every hour", "The office VPN drops the connection roughly every 60 minutes."),
    ("Printer on floor 3 is offline", "Nobody on floor 3 can print since this morning; the printer shows as offline."),
    ("Refund not received", "I cancelled order 5531 two weeks ago and have not received the refund yet."),
    ("Two-factor code never arrives", "The SMS with the login code never arrives on my phone."),
    ("Search results load slowly", "Searching the knowledge base takes over 20 seconds."),
    ("CSV export is missing columns", "The exported CSV has no 'region' or 'owner' columns any more."),
    ("Cannot change billing address", "Saving a new billing address gives an error 500."),
    ("Emails going to spam", "Our notification emails land in customers' spam folders."),
)
_COMMENTS = ("Could you send a screenshot of the error?", "I can reproduce this on my machine.",
             "Escalated to the platform team.", "Workaround: clear the browser cache and retry.",
             "Customer confirmed the issue persists.", "Waiting for the vendor's reply.")
_RESOLUTIONS = ("Fixed in release 4.2.1.", "Configuration corrected; confirmed with the customer.",
                "Duplicate of an earlier ticket.", "Refund issued.", "Could not reproduce; closed after no reply.")


def seed_config(seed: int) -> dict[str, Any]:
    """A deterministic ticket queue for a seed: 3-5 agents and 4-9 tickets in every status."""
    rng = random.Random(seed)
    agents = sorted(rng.sample(_AGENTS, rng.randint(3, 5)))
    current = rng.choice(agents)
    tickets = []
    for offset, index in enumerate(rng.sample(range(len(_ISSUES)), rng.randint(4, 9))):
        title, description = _ISSUES[index]
        status = rng.choice(("open", "open", "in_progress", "in_progress", "resolved", "closed"))
        assignee = None if status == "open" and rng.random() < 0.5 else rng.choice(agents)
        comments = [{"author": rng.choice([*agents, *_CUSTOMERS]), "text": rng.choice(_COMMENTS)}
                    for _ in range(rng.randint(0, 2))]
        tickets.append({"id": f"TCK-{FIRST_NUMBER + offset}", "title": title, "description": description,
                        "priority": rng.choice(PRIORITIES), "status": status, "assignee": assignee,
                        "reporter": rng.choice(_CUSTOMERS), "comments": comments,
                        "resolution": rng.choice(_RESOLUTIONS) if status in ("resolved", "closed") else None})
    return {"current_user": current, "agents": agents, "tickets": tickets, "next_number": FIRST_NUMBER + len(tickets)}


# ---------------------------------------------------------------------------------- toolkit
class Tickets(Toolkit):
    """A help-desk ticket system (stateful: changes persist across calls)."""

    name: ClassVar[str] = "tickets"
    description: ClassVar[str] = ("A help-desk ticket system: open tickets, look them up, filter the queue, assign "
                                  "agents, comment, change priority and move tickets through open → in_progress → "
                                  "resolved → closed.")

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return seed_config(0)

    def setup(self) -> None:
        if not isinstance(self.config, dict):
            raise ToolkitError("tickets config must be a JSON object with 'tickets' and 'agents'")
        state = clone(self.config)  # the state evolves; self.config stays the initial one
        state.setdefault("tickets", [])
        state.setdefault("agents", [])
        state.setdefault("current_user", "support-agent")
        for ticket in state["tickets"]:
            if not isinstance(ticket, dict) or not isinstance(ticket.get("id"), str):
                raise ToolkitError(f"bad tickets config: ticket {ticket!r} lacks an 'id' string")
            if ticket.get("status", "open") not in TRANSITIONS or ticket.get("priority", "medium") not in PRIORITIES:
                raise ToolkitError(f"bad tickets config: ticket {ticket['id']} has an unknown status or priority")
            for key, default in (("title", ""), ("description", ""), ("priority", "medium"), ("status", "open"),
                                 ("assignee", None), ("reporter", None), ("comments", []), ("resolution", None)):
                ticket.setdefault(key, default)
        if "next_number" not in state:
            numbers = [int(t["id"][4:]) for t in state["tickets"] if re.fullmatch(r"TCK-\d+", t["id"])]
            state["next_number"] = max(numbers, default=FIRST_NUMBER - 1) + 1
        self.state = state

    # ------------------------------------------------------------------ helpers
    def _find(self, ticket_id: str) -> dict[str, Any]:
        return find_by_id(self.state["tickets"], ticket_id.strip().upper(), "ticket", asked=repr(ticket_id))

    def _agent(self, name: str) -> str:
        key = name.strip().lower()
        if key not in self.state["agents"]:
            raise ToolError(f"unknown agent {name!r}; agents: {', '.join(self.state['agents']) or 'none'}")
        return key

    @staticmethod
    def _text(text: str, what: str, limit: int = MAX_TEXT) -> str:
        text = text.strip()
        if not text:
            raise ToolError(f"{what} must not be empty")
        if len(text) > limit:
            raise ToolError(f"{what} is too long ({len(text)} characters; at most {limit})")
        return text

    @staticmethod
    def _editable(ticket: dict[str, Any]) -> None:
        if ticket["status"] == "closed":
            raise ToolError(f"ticket {ticket['id']} is closed and can no longer be changed")

    def _move(self, ticket: dict[str, Any], status: str, resolution: str | None) -> dict[str, Any]:
        old = ticket["status"]
        if status == old:
            raise ToolError(f"ticket {ticket['id']} is already {old}")
        allowed = TRANSITIONS[old]
        if status not in allowed:
            raise ToolError(f"cannot move ticket {ticket['id']} from {old} to {status}; allowed from {old}: "
                            f"{', '.join(allowed) or 'none (closed is final)'}")
        if status in ("resolved", "closed"):
            if resolution is None and not ticket.get("resolution"):
                raise ToolError(f"moving a ticket to {status} needs a resolution describing how it was handled")
            if resolution is not None:
                ticket["resolution"] = self._text(resolution, "resolution", 1_000)
        elif resolution is not None:
            raise ToolError("a resolution is only given when moving a ticket to resolved or closed")
        else:
            ticket["resolution"] = None  # reopened
        ticket["status"] = status
        return {"id": ticket["id"], "previous_status": old, "status": status, "resolution": ticket["resolution"]}

    # ------------------------------------------------------------------ tools
    def open_ticket(self, title: str, description: str, priority: Priority = "medium",
                    assignee: str | None = None) -> dict[str, Any]:
        """Open a new support ticket (status "open").

        Args:
            title: A one-line summary of the problem, e.g. "Cannot log in after password reset".
            description: The details of the problem.
            priority: How urgent it is.
            assignee: The agent to handle it (see list_support_agents); leave out to keep it unassigned.
        """
        if len(self.state["tickets"]) >= MAX_TICKETS:
            raise ToolError(f"the ticket system is full ({MAX_TICKETS} tickets)")
        ticket = {"id": f"TCK-{self.state['next_number']}", "title": self._text(title, "title", 200),
                  "description": self._text(description, "description"), "priority": priority, "status": "open",
                  "assignee": self._agent(assignee) if assignee is not None else None,
                  "reporter": self.state["current_user"], "comments": [], "resolution": None}
        self.state["next_number"] += 1
        self.state["tickets"].append(ticket)
        return {"opened": _full(ticket)}

    def view_ticket(self, ticket_id: str) -> dict[str, Any]:
        """All details of one ticket, including its comments.

        Args:
            ticket_id: The ticket's id, e.g. "TCK-1003".
        """
        return _full(self._find(ticket_id))

    def list_tickets(self, status: Status | None = None, priority: Priority | None = None,
                     assignee: str | None = None, keyword: str | None = None) -> dict[str, Any]:
        """List tickets (id, title, status, priority, assignee), filtered by any combination of criteria.

        Args:
            status: Only tickets in this status.
            priority: Only tickets with this priority.
            assignee: Only tickets assigned to this agent; use "unassigned" for tickets nobody handles yet.
            keyword: Only tickets whose title or description contains this text (case-insensitive).
        """
        who = assignee.strip().lower() if assignee is not None else None
        needle = keyword.strip().lower() if keyword else ""
        found = []
        for ticket in self.state["tickets"]:
            if status is not None and ticket["status"] != status:
                continue
            if priority is not None and ticket["priority"] != priority:
                continue
            if who is not None and (ticket["assignee"] or "unassigned") != who:
                continue
            if needle and needle not in (ticket["title"] + "\n" + ticket["description"]).lower():
                continue
            found.append(_summary(ticket))
        return {"tickets": found, "count": len(found)}

    def list_support_agents(self) -> dict[str, Any]:
        """The agents tickets can be assigned to, with how many unfinished tickets each has, and who you are."""
        load = {agent: 0 for agent in self.state["agents"]}
        for ticket in self.state["tickets"]:
            if ticket["assignee"] in load and ticket["status"] in ("open", "in_progress"):
                load[ticket["assignee"]] += 1
        return {"agents": [{"name": a, "active_tickets": n} for a, n in load.items()],
                "current_user": self.state["current_user"]}

    def update_ticket_status(self, ticket_id: str, status: Status, resolution: str | None = None) -> dict[str, Any]:
        """Move a ticket to another status. Allowed: open → in_progress or closed; in_progress → open, resolved
        or closed; resolved → in_progress (reopen) or closed; closed is final.

        Args:
            ticket_id: The ticket's id, e.g. "TCK-1003".
            status: The new status.
            resolution: How the ticket was handled; required when moving to resolved or closed (unless it already has one).
        """
        return self._move(self._find(ticket_id), status, resolution)

    def close_ticket_with_resolution(self, ticket_id: str, resolution: str) -> dict[str, Any]:
        """Close a ticket, recording how it was handled (allowed from open, in_progress and resolved).

        Args:
            ticket_id: The ticket's id, e.g. "TCK-1003".
            resolution: How the ticket was handled, e.g. "Password reset link re-sent; customer can log in".
        """
        return self._move(self._find(ticket_id), "closed", resolution)

    def assign_ticket(self, ticket_id: str, assignee: str) -> dict[str, Any]:
        """Assign a ticket to a support agent (replacing any previous assignee).

        Args:
            ticket_id: The ticket's id, e.g. "TCK-1003".
            assignee: The agent's name (see list_support_agents).
        """
        ticket = self._find(ticket_id)
        self._editable(ticket)
        agent = self._agent(assignee)
        previous, ticket["assignee"] = ticket["assignee"], agent
        return {"id": ticket["id"], "assignee": agent, "previous_assignee": previous}

    def change_ticket_priority(self, ticket_id: str, priority: Priority) -> dict[str, Any]:
        """Raise or lower a ticket's priority.

        Args:
            ticket_id: The ticket's id, e.g. "TCK-1003".
            priority: The new priority.
        """
        ticket = self._find(ticket_id)
        self._editable(ticket)
        previous, ticket["priority"] = ticket["priority"], priority
        return {"id": ticket["id"], "priority": priority, "previous_priority": previous}

    def add_ticket_comment(self, ticket_id: str, text: str) -> dict[str, Any]:
        """Add a comment to a ticket, written as the current user. Closed tickets take no comments.

        Args:
            ticket_id: The ticket's id, e.g. "TCK-1003".
            text: The comment.
        """
        ticket = self._find(ticket_id)
        self._editable(ticket)
        comment = {"author": self.state["current_user"], "text": self._text(text, "comment")}
        ticket["comments"].append(comment)
        return {"id": ticket["id"], "comment": dict(comment), "comments": len(ticket["comments"])}
