"""A personal calendar toolkit: date arithmetic plus a stateful store of timed events.

State (``self.state``, loaded from the config): ``today`` (ISO date: the calendar's "now"; there is
no wall clock), ``events`` (``{"id", "title", "date", "start", "end", "location", "attendees"}``,
times ``HH:MM`` within one day) and ``next_id`` (new events get ``evt-<next_id>``).
``seed_config(seed)`` builds a varied, deterministic calendar for a seed; ``default_config()`` is
``seed_config(0)``. Overlapping events are refused (``ToolError`` naming the conflict), as are new
events before today.

May import: the standard library and ``opentoollab.tools.base``.
"""

from __future__ import annotations

import calendar as _calendar
import random
import re
from datetime import date, timedelta
from typing import Any, ClassVar

from .base import Toolkit, ToolError, ToolkitError, clone, find_by_id

DEFAULT_TODAY = "2025-03-14"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_TITLE = 200
MAX_EVENTS = 2_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_date(text: str, what: str = "date") -> date:
    """An ISO ``YYYY-MM-DD`` date, or a ToolError saying what is wrong."""
    if not isinstance(text, str) or not _DATE.match(text):
        raise ToolError(f"{what} must be a date as YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ToolError(f"{what} {text!r} is not a real calendar date") from None


def parse_time(text: str, what: str = "time") -> int:
    """Minutes after midnight of an ``HH:MM`` time (24-hour clock)."""
    match = _TIME.match(text) if isinstance(text, str) else None
    if not match:
        raise ToolError(f"{what} must be a 24-hour time as HH:MM, got {text!r}")
    return int(match.group(1)) * 60 + int(match.group(2))


def format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day(value: date) -> dict[str, str]:
    return {"date": value.isoformat(), "weekday": WEEKDAYS[value.weekday()]}


def _add_months(value: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (Jan 31 + 1 month → Feb 28/29)."""
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ToolError("the resulting date is outside years 1-9999")
    return date(year, month + 1, min(value.day, _calendar.monthrange(year, month + 1)[1]))


def _business_days(start: date, end: date) -> int:
    """Monday-Friday days in [start, end) (negative when end < start)."""
    if end < start:
        return -_business_days(end, start)
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    weekday = start.weekday()
    for offset in range(rest):
        if (weekday + offset) % 7 < 5:
            count += 1
    return count


# ---------------------------------------------------------------------------------- seeding
_TITLES = (
    "Team standup", "1:1 with {person}", "{project} review", "Dentist appointment", "Lunch with {person}",
    "Quarterly planning", "Interview: {role} candidate", "Gym session", "Client call with {company}",
    "Design review", "Budget meeting", "Yoga class", "Parent-teacher conference", "Car service",
    "Book club", "Coffee with {person}", "{project} kickoff", "Haircut", "Sprint retrospective",
    "Doctor check-up", "Piano lesson", "All-hands meeting", "Team lunch",
)
_PEOPLE = ("Priya", "Marco", "Aisha", "Tom", "Yuki", "Elena", "Sam", "Fatima", "Lukas", "Grace", "Omar", "Nina")
_PROJECTS = ("Apollo", "Website redesign", "Mobile app", "Data pipeline", "Atlas", "Q3 launch")
_ROLES = ("backend engineer", "product designer", "data analyst", "sales lead")
_COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella Health", "Northwind")
_LOCATIONS = ("Room 2A", "Room 4C", "Zoom", "Main office", "Cafe Luna", "Downtown clinic", "Gym", "Google Meet")


def seed_config(seed: int) -> dict[str, Any]:
    """A deterministic calendar for a seed: a 2025 'today' and 6-14 non-overlapping events around it."""
    rng = random.Random(seed)
    today = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
    events: list[dict[str, Any]] = []
    busy: dict[str, list[tuple[int, int]]] = {}
    for _ in range(rng.randint(6, 14)):
        day = today + timedelta(days=rng.randint(-7, 21))
        if day.weekday() >= 5 and rng.random() < 0.7:
            day += timedelta(days=7 - day.weekday())  # mostly weekdays
        start = rng.randrange(8 * 4, 18 * 4) * 15
        end = min(start + rng.choice((30, 30, 45, 60, 60, 90, 120)), 20 * 60)
        slots = busy.setdefault(day.isoformat(), [])
        if any(start < b and a < end for a, b in slots):
            continue
        slots.append((start, end))
        title = rng.choice(_TITLES).format(person=rng.choice(_PEOPLE), project=rng.choice(_PROJECTS),
                                           role=rng.choice(_ROLES), company=rng.choice(_COMPANIES))
        attendees = sorted(rng.sample(_PEOPLE, rng.randint(0, 3)))
        events.append({"title": title, "date": day.isoformat(), "start": format_time(start), "end": format_time(end),
                       "location": rng.choice(_LOCATIONS) if rng.random() < 0.7 else None, "attendees": attendees})
    events.sort(key=lambda e: (e["date"], e["start"]))
    for number, event in enumerate(events, 1):
        event["id"] = f"evt-{number}"
    return {"today": today.isoformat(), "events": [{"id": e.pop("id"), **e} for e in events],
            "next_id": len(events) + 1}


# ---------------------------------------------------------------------------------- toolkit
class Calendar(Toolkit):
    """Dates and a personal calendar of events (stateful: changes persist across calls)."""

    name: ClassVar[str] = "calendar"
    description: ClassVar[str] = ("A personal calendar: today's date, weekdays, date arithmetic, and events that "
                                  "can be listed, created, moved, deleted and searched for free time.")

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return seed_config(0)

    def setup(self) -> None:
        config = self.config
        if not isinstance(config, dict):
            raise ToolkitError("calendar config must be a JSON object with 'today' and 'events'")
        state = clone(config)  # the state evolves; self.config stays the initial one
        state.setdefault("today", DEFAULT_TODAY)
        state.setdefault("events", [])
        try:
            self._today = parse_date(state["today"], "config 'today'")
            for event in state["events"]:
                parse_date(event["date"])
                parse_time(event["start"]), parse_time(event["end"])
                event.setdefault("location", None)
                event.setdefault("attendees", [])
                if not isinstance(event.get("id"), str) or not isinstance(event.get("title"), str):
                    raise ToolError(f"event {event!r} lacks an 'id' or 'title' string")
        except (ToolError, KeyError, TypeError) as error:
            raise ToolkitError(f"bad calendar config: {error}") from None
        if "next_id" not in state:
            numbers = [int(e["id"][4:]) for e in state["events"] if re.fullmatch(r"evt-\d+", str(e["id"]))]
            state["next_id"] = max(numbers, default=0) + 1
        self.state = state

    # ------------------------------------------------------------------ helpers
    def _find(self, event_id: str) -> dict[str, Any]:
        return find_by_id(self.state["events"], event_id, "event")

    def _check_free(self, day: str, start: int, end: int, ignore: str | None = None) -> None:
        for other in self.state["events"]:
            if other["date"] != day or other["id"] == ignore:
                continue
            if start < parse_time(other["end"]) and parse_time(other["start"]) < end:
                raise ToolError(f"time conflict: {day} {format_time(start)}-{format_time(end)} overlaps "
                                f"{other['id']} '{other['title']}' ({other['start']}-{other['end']})")

    def _check_title(self, title: str) -> str:
        title = title.strip()
        if not title:
            raise ToolError("title must not be empty")
        if len(title) > MAX_TITLE:
            raise ToolError(f"title is too long ({len(title)} characters; at most {MAX_TITLE})")
        return title

    def _sort(self) -> None:
        self.state["events"].sort(key=lambda e: (e["date"], e["start"], e["end"], e["id"]))

    # ------------------------------------------------------------------ dates
    def get_current_date(self) -> dict[str, Any]:
        """Today's date and weekday according to this calendar."""
        return _day(self._today)

    def weekday_of(self, date: str) -> dict[str, Any]:
        """The day of the week of a date, with its ISO week number and day of the year.

        Args:
            date: The date as YYYY-MM-DD, e.g. "2025-07-04".
        """
        value = parse_date(date)
        return {**_day(value), "iso_week": value.isocalendar()[1], "day_of_year": value.timetuple().tm_yday}

    def days_between(self, start_date: str, end_date: str) -> dict[str, Any]:
        """Number of days from one date to another (negative if end_date is earlier), plus weekdays (Mon-Fri) in between.

        Args:
            start_date: The first date as YYYY-MM-DD.
            end_date: The second date as YYYY-MM-DD.
        """
        start, end = parse_date(start_date, "start_date"), parse_date(end_date, "end_date")
        days = (end - start).days
        weeks, rest = divmod(abs(days), 7)
        return {"days": days, "weeks": weeks if days >= 0 else -weeks, "remaining_days": rest if days >= 0 else -rest,
                "business_days": _business_days(start, end)}

    def add_to_date(self, date: str, days: int = 0, weeks: int = 0, months: int = 0, years: int = 0) -> dict[str, Any]:
        """Shift a date by a number of years, months, weeks and days (negative values go back in time).

        Years and months are applied first; a day that does not exist in the target month becomes the month's
        last day (2025-01-31 plus 1 month is 2025-02-28).

        Args:
            date: The starting date as YYYY-MM-DD.
            days: Days to add.
            weeks: Weeks to add.
            months: Calendar months to add.
            years: Years to add.
        """
        value = parse_date(date)
        try:
            if years or months:
                value = _add_months(value, years * 12 + months)
            value = value + timedelta(days=days + 7 * weeks)
        except (OverflowError, ValueError):
            raise ToolError("the resulting date is outside years 1-9999") from None
        return _day(value)

    # ------------------------------------------------------------------ events
    def list_events(self, start_date: str | None = None, end_date: str | None = None,
                    keyword: str | None = None) -> dict[str, Any]:
        """List calendar events in date and time order, optionally within a date range and/or matching a keyword.

        Args:
            start_date: Only events on or after this date (YYYY-MM-DD). Omit for no lower bound.
            end_date: Only events on or before this date (YYYY-MM-DD). Omit for no upper bound.
            keyword: Only events whose title, location or attendees contain this text (case-insensitive).
        """
        low = parse_date(start_date, "start_date").isoformat() if start_date is not None else None
        high = parse_date(end_date, "end_date").isoformat() if end_date is not None else None
        if low and high and high < low:
            raise ToolError("end_date is before start_date")
        needle = keyword.strip().lower() if keyword else ""
        found = []
        for event in self.state["events"]:
            if (low and event["date"] < low) or (high and event["date"] > high):
                continue
            if needle:
                text = " ".join([event["title"], event.get("location") or "", *event.get("attendees", [])]).lower()
                if needle not in text:
                    continue
            found.append(dict(event))
        return {"events": found, "count": len(found)}

    def get_event(self, event_id: str) -> dict[str, Any]:
        """Full details of one event.

        Args:
            event_id: The event's id, e.g. "evt-3".
        """
        return dict(self._find(event_id))

    def create_event(self, title: str, date: str, start_time: str, end_time: str, location: str | None = None,
                     attendees: list[str] | None = None) -> dict[str, Any]:
        """Add an event to the calendar. Fails if it overlaps an existing event or is before today.

        Args:
            title: Short title, e.g. "Dentist appointment".
            date: The day of the event as YYYY-MM-DD; today or later.
            start_time: Start time as HH:MM (24-hour clock), e.g. "14:30".
            end_time: End time as HH:MM on the same day; later than start_time.
            location: Where it takes place, e.g. "Room 2A" or "Zoom".
            attendees: Names of other people attending.
        """
        if len(self.state["events"]) >= MAX_EVENTS:
            raise ToolError(f"the calendar is full ({MAX_EVENTS} events)")
        title = self._check_title(title)
        day = parse_date(date)
        if day < self._today:
            raise ToolError(f"cannot create an event in the past ({date}; today is {self._today.isoformat()})")
        start, end = parse_time(start_time, "start_time"), parse_time(end_time, "end_time")
        if end <= start:
            raise ToolError("end_time must be later than start_time")
        self._check_free(day.isoformat(), start, end)
        event = {"id": f"evt-{self.state['next_id']}", "title": title, "date": day.isoformat(),
                 "start": format_time(start), "end": format_time(end), "location": location or None,
                 "attendees": list(attendees or [])}
        self.state["next_id"] += 1
        self.state["events"].append(event)
        self._sort()
        return {"created": dict(event)}

    def update_event(self, event_id: str, title: str | None = None, date: str | None = None,
                     start_time: str | None = None, end_time: str | None = None, location: str | None = None,
                     attendees: list[str] | None = None) -> dict[str, Any]:
        """Change an event: only the fields you give are changed. Moving it onto another event is refused.

        Args:
            event_id: The event's id, e.g. "evt-3".
            title: New title.
            date: New date as YYYY-MM-DD (today or later).
            start_time: New start time as HH:MM.
            end_time: New end time as HH:MM.
            location: New location.
            attendees: New full list of attendees (replaces the old list).
        """
        event = self._find(event_id)
        changed = {}
        if title is not None:
            changed["title"] = self._check_title(title)
        day = event["date"]
        if date is not None:
            moved = parse_date(date)
            if moved < self._today:
                raise ToolError(f"cannot move an event into the past ({date}; today is {self._today.isoformat()})")
            day = changed["date"] = moved.isoformat()
        start = parse_time(start_time, "start_time") if start_time is not None else parse_time(event["start"])
        end = parse_time(end_time, "end_time") if end_time is not None else parse_time(event["end"])
        if end <= start:
            raise ToolError(f"end time {format_time(end)} must be later than start time {format_time(start)}")
        if start_time is not None:
            changed["start"] = format_time(start)
        if end_time is not None:
            changed["end"] = format_time(end)
        if location is not None:
            changed["location"] = location or None
        if attendees is not None:
            changed["attendees"] = list(attendees)
        if not changed:
            raise ToolError("nothing to change: give at least one field")
        self._check_free(day, start, end, ignore=event_id)
        event.update(changed)
        self._sort()
        return {"updated": dict(event), "changed": sorted(changed)}

    def delete_event(self, event_id: str) -> dict[str, Any]:
        """Remove an event from the calendar.

        Args:
            event_id: The event's id, e.g. "evt-3".
        """
        event = self._find(event_id)
        self.state["events"].remove(event)
        return {"deleted": event_id, "title": event["title"], "date": event["date"]}

    def find_free_slots(self, date: str, duration_minutes: int = 30, day_start: str = "09:00",
                        day_end: str = "17:00") -> dict[str, Any]:
        """Free time windows on a day that are at least a given length, between day_start and day_end.

        Args:
            date: The day to look at, as YYYY-MM-DD.
            duration_minutes: Minimum length of a free window in minutes (1 to 1440).
            day_start: Earliest time to consider, HH:MM.
            day_end: Latest time to consider, HH:MM; later than day_start.
        """
        value = parse_date(date)
        day = value.isoformat()
        if not 1 <= duration_minutes <= 1440:
            raise ToolError("duration_minutes must be between 1 and 1440")
        low, high = parse_time(day_start, "day_start"), parse_time(day_end, "day_end")
        if high <= low:
            raise ToolError("day_end must be later than day_start")
        busy = sorted((parse_time(e["start"]), parse_time(e["end"])) for e in self.state["events"] if e["date"] == day)
        slots, cursor = [], low
        for start, end in busy + [(high, high)]:
            start, end = max(start, low), min(end, high)
            if start - cursor >= duration_minutes:
                slots.append({"start": format_time(cursor), "end": format_time(start), "minutes": start - cursor})
            cursor = max(cursor, end)
        return {**_day(value), "free_slots": slots}
