"""A notes app toolkit: create, list, search, read, edit, tag and delete text notes (stateful).

State (``self.state``, loaded from the config): ``notes`` (``{"id", "title", "body", "tags"}``, in
creation order) and ``next_id`` (new notes get ``note-<next_id>``). Tags are lower-case words
(``#Work`` is stored as ``work``). ``seed_config(seed)`` builds a varied deterministic notebook;
``default_config()`` is ``seed_config(0)``.

May import: the standard library and ``opentoollab.tools.base``.
"""

from __future__ import annotations

import random
import re
from typing import Any, ClassVar

from .base import Toolkit, ToolError, ToolkitError, clone, find_by_id

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_NOTES = 2_000
MAX_TAGS = 20
PREVIEW = 80
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def normalize_tag(tag: str) -> str:
    """``"#Work "`` → ``"work"``; a ToolError for anything but a short word."""
    value = tag.strip().lstrip("#").strip().lower().replace(" ", "-")
    if not _TAG.match(value):
        raise ToolError(f"invalid tag {tag!r}: use a short word of letters, digits, '-' or '_'")
    return value


def _summary(note: dict[str, Any]) -> dict[str, Any]:
    body = " ".join(note["body"].split())
    return {"id": note["id"], "title": note["title"], "tags": list(note["tags"]),
            "preview": body if len(body) <= PREVIEW else body[:PREVIEW - 3] + "...", "characters": len(note["body"])}


# ---------------------------------------------------------------------------------- seeding
_PEOPLE = ("Mia", "Jonas", "Leila", "Carlos", "Hana", "Victor", "Zoe", "Ravi")
_TEMPLATES: tuple[tuple[str, tuple[str, ...], list[str]], ...] = (
    ("Grocery list", ("shopping",), ["eggs", "oat milk", "spinach", "rice", "coffee beans", "tomatoes", "bread",
                                     "lemons", "cheddar", "bananas", "olive oil", "yogurt"]),
    ("Meeting notes: {project}", ("work", "meetings"), ["Decided to ship the beta on Friday.",
                                                        "{person} owns the migration plan.", "Budget review moved to next week.",
                                                        "Open question: do we need a second designer?",
                                                        "Action: send the summary to the whole team."]),
    ("Books to read", ("reading",), ["Piranesi", "The Overstory", "Klara and the Sun", "Thinking, Fast and Slow",
                                     "The Left Hand of Darkness", "Braiding Sweetgrass", "The Remains of the Day"]),
    ("Trip to {city}", ("travel",), ["passport", "charger", "walking shoes", "book the airport train",
                                     "museum tickets", "rain jacket", "local SIM card"]),
    ("Recipe: {dish}", ("recipes", "cooking"), ["2 cups flour", "1 tsp salt", "3 cloves garlic", "simmer 20 minutes",
                                                 "season to taste", "serve with lemon"]),
    ("Gift ideas for {person}", ("personal", "ideas"), ["a pottery class", "noise-cancelling headphones",
                                                         "a cookbook", "concert tickets", "a plant", "a scarf"]),
    ("Workout plan", ("health",), ["Mon: 5 km run", "Wed: strength, 45 min", "Fri: swim 1 km", "Sun: long walk",
                                   "stretch every morning"]),
    ("App ideas", ("ideas", "work"), ["habit tracker with streaks", "shared shopping lists",
                                      "offline-first recipe box", "plant watering reminders"]),
    ("Questions for the doctor", ("health", "personal"), ["Is the knee pain related to running?",
                                                           "Do I need a booster shot?", "Vitamin D levels?"]),
    ("{project} retro", ("work",), ["What went well: fast reviews.", "What to improve: flaky tests.",
                                    "Try next sprint: pair on the release checklist."]),
)
_PROJECTS = ("Apollo", "Website redesign", "Mobile app", "Atlas", "Data pipeline")
_CITIES = ("Lisbon", "Kyoto", "Montreal", "Edinburgh", "Cape Town", "Oaxaca")
_DISHES = ("lentil soup", "shakshuka", "banana bread", "pad thai", "mushroom risotto")


def seed_config(seed: int) -> dict[str, Any]:
    """A deterministic notebook for a seed: 3-8 notes drawn from varied templates, with tags."""
    rng = random.Random(seed)
    notes = []
    for number, index in enumerate(rng.sample(range(len(_TEMPLATES)), rng.randint(3, 8)), 1):
        title, tags, lines = _TEMPLATES[index]
        fill = {"project": rng.choice(_PROJECTS), "person": rng.choice(_PEOPLE), "city": rng.choice(_CITIES),
                "dish": rng.choice(_DISHES)}
        picked = rng.sample(lines, rng.randint(2, min(6, len(lines))))
        bullet = "- " if rng.random() < 0.6 else ""
        body = "\n".join(bullet + line.format(**fill) for line in picked)
        chosen = sorted(set(tags[:rng.randint(1, len(tags))]) | ({"important"} if rng.random() < 0.15 else set()))
        notes.append({"id": f"note-{number}", "title": title.format(**fill), "body": body, "tags": chosen})
    return {"notes": notes, "next_id": len(notes) + 1}


# ---------------------------------------------------------------------------------- toolkit
class Notes(Toolkit):
    """A notes app (stateful: changes persist across calls)."""

    name: ClassVar[str] = "notes"
    description: ClassVar[str] = "A personal notes app: create, list, search, read, edit, append to, tag and delete notes."

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return seed_config(0)

    def setup(self) -> None:
        if not isinstance(self.config, dict):
            raise ToolkitError("notes config must be a JSON object with a 'notes' list")
        state = clone(self.config)  # the state evolves; self.config stays the initial one
        state.setdefault("notes", [])
        for note in state["notes"]:
            if not isinstance(note, dict) or not isinstance(note.get("id"), str) or not isinstance(note.get("title"), str):
                raise ToolkitError(f"bad notes config: note {note!r} lacks an 'id' or 'title' string")
            note.setdefault("body", "")
            note.setdefault("tags", [])
        if "next_id" not in state:
            numbers = [int(n["id"][5:]) for n in state["notes"] if re.fullmatch(r"note-\d+", n["id"])]
            state["next_id"] = max(numbers, default=0) + 1
        self.state = state

    # ------------------------------------------------------------------ helpers
    def _find(self, note_id: str) -> dict[str, Any]:
        return find_by_id(self.state["notes"], note_id, "note")

    @staticmethod
    def _title(title: str) -> str:
        title = " ".join(title.split())
        if not title:
            raise ToolError("title must not be empty")
        if len(title) > MAX_TITLE:
            raise ToolError(f"title is too long ({len(title)} characters; at most {MAX_TITLE})")
        return title

    @staticmethod
    def _body(body: str) -> str:
        if len(body) > MAX_BODY:
            raise ToolError(f"note text is too long ({len(body)} characters; at most {MAX_BODY})")
        return body

    @staticmethod
    def _tags(tags: list[str]) -> list[str]:
        return sorted({normalize_tag(tag) for tag in tags})

    # ------------------------------------------------------------------ tools
    def create_note(self, title: str, body: str = "", tags: list[str] | None = None) -> dict[str, Any]:
        """Create a new note.

        Args:
            title: The note's title, e.g. "Packing list".
            body: The note's text (may contain several lines).
            tags: Labels for the note, e.g. ["travel", "todo"]; stored lower-case without '#'.
        """
        if len(self.state["notes"]) >= MAX_NOTES:
            raise ToolError(f"the notebook is full ({MAX_NOTES} notes)")
        clean_tags = self._tags(tags or [])
        if len(clean_tags) > MAX_TAGS:
            raise ToolError(f"too many tags (at most {MAX_TAGS})")
        note = {"id": f"note-{self.state['next_id']}", "title": self._title(title), "body": self._body(body),
                "tags": clean_tags}
        self.state["next_id"] += 1
        self.state["notes"].append(note)
        return {"created": _summary(note)}

    def list_notes(self, tag: str | None = None) -> dict[str, Any]:
        """List all notes (id, title, tags and a short preview), oldest first, optionally only those with a tag.

        Args:
            tag: Only notes carrying this tag, e.g. "work".
        """
        wanted = normalize_tag(tag) if tag is not None else None
        found = [_summary(n) for n in self.state["notes"] if wanted is None or wanted in n["tags"]]
        return {"notes": found, "count": len(found)}

    def search_notes(self, query: str | None = None, tag: str | None = None) -> dict[str, Any]:
        """Find notes whose title or text contains every word of a query (case-insensitive) and/or that carry a tag.

        Args:
            query: Words to look for, e.g. "budget friday". Give a query, a tag, or both.
            tag: Only notes carrying this tag.
        """
        words = query.lower().split() if query else []
        wanted = normalize_tag(tag) if tag is not None else None
        if not words and wanted is None:
            raise ToolError("give a query, a tag, or both")
        found = []
        for note in self.state["notes"]:
            if wanted is not None and wanted not in note["tags"]:
                continue
            text = (note["title"] + "\n" + note["body"]).lower()
            if all(word in text for word in words):
                found.append(_summary(note))
        return {"notes": found, "count": len(found)}

    def read_note(self, note_id: str) -> dict[str, Any]:
        """The full text of a note with its title and tags.

        Args:
            note_id: The note's id, e.g. "note-2".
        """
        note = self._find(note_id)
        return {"id": note["id"], "title": note["title"], "body": note["body"], "tags": list(note["tags"])}

    def update_note(self, note_id: str, title: str | None = None, body: str | None = None) -> dict[str, Any]:
        """Replace a note's title and/or its whole text.

        Args:
            note_id: The note's id, e.g. "note-2".
            title: The new title.
            body: The new text, replacing the old text entirely (to add to it, use append_to_note).
        """
        note = self._find(note_id)
        if title is None and body is None:
            raise ToolError("nothing to change: give a title, a body, or both")
        new_title = self._title(title) if title is not None else note["title"]
        new_body = self._body(body) if body is not None else note["body"]
        note["title"], note["body"] = new_title, new_body
        return {"updated": _summary(note)}

    def append_to_note(self, note_id: str, text: str) -> dict[str, Any]:
        """Add text at the end of a note, on a new line.

        Args:
            note_id: The note's id, e.g. "note-2".
            text: The text to add.
        """
        note = self._find(note_id)
        if not text.strip():
            raise ToolError("text must not be empty")
        note["body"] = self._body(note["body"] + ("\n" if note["body"] else "") + text)
        return {"updated": _summary(note)}

    def tag_note(self, note_id: str, add_tags: list[str] | None = None,
                 remove_tags: list[str] | None = None) -> dict[str, Any]:
        """Add and/or remove tags of a note.

        Args:
            note_id: The note's id, e.g. "note-2".
            add_tags: Tags to add, e.g. ["urgent"].
            remove_tags: Tags to remove; removing a tag the note does not have is an error.
        """
        note = self._find(note_id)
        add, remove = self._tags(add_tags or []), self._tags(remove_tags or [])
        if not add and not remove:
            raise ToolError("give tags to add or to remove")
        missing = [tag for tag in remove if tag not in note["tags"]]
        if missing:
            raise ToolError(f"note {note_id} has no tag {', '.join(missing)} (its tags: {', '.join(note['tags']) or 'none'})")
        tags = sorted((set(note["tags"]) - set(remove)) | set(add))
        if len(tags) > MAX_TAGS:
            raise ToolError(f"too many tags (at most {MAX_TAGS})")
        note["tags"] = tags
        return {"id": note_id, "tags": list(tags)}

    def list_note_tags(self) -> dict[str, Any]:
        """All tags in use, with how many notes carry each."""
        counts: dict[str, int] = {}
        for note in self.state["notes"]:
            for tag in note["tags"]:
                counts[tag] = counts.get(tag, 0) + 1
        return {"tags": [{"tag": tag, "notes": counts[tag]} for tag in sorted(counts)]}

    def delete_note(self, note_id: str) -> dict[str, Any]:
        """Delete a note permanently.

        Args:
            note_id: The note's id, e.g. "note-2".
        """
        note = self._find(note_id)
        self.state["notes"].remove(note)
        return {"deleted": note_id, "title": note["title"]}
