"""Calendar: a company directory, meetings, rooms, reminders, time zones and recurring series.

Structure that makes data hard: a person's name only leads to their user id through the directory;
inviting someone needs that id and a time at which everyone is free (conflicts are refused); a room is
found by capacity and then booked by its id; reminders, moves and cancellations need the event id; all
times are UTC, so a time given in someone's local zone has to be converted first.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from typing import Any, Literal

from hardgen.environment.base import Dependency, Suite, ToolError
from hardgen.environment.registry import register_suite

Response = Literal["accepted", "declined", "tentative"]
Frequency = Literal["daily", "weekdays", "weekly", "monthly"]
ReminderMethod = Literal["popup", "email"]

_TIME_FORMAT = "%Y-%m-%dT%H:%M"
_SLOT_STEP = timedelta(minutes=30)
_MAX_SLOTS = 10
_MAX_EVENT_MINUTES = 12 * 60
_MAX_LIST_DAYS = 31


def _d(before: str, after: str, output: str, parameter: str) -> Dependency:
    return Dependency(before, after, "value", output, parameter)


def _needs_login(after: str) -> Dependency:
    return Dependency("calendar_login", after, "prerequisite")


_EVENT_ID_USERS = (
    "get_event",
    "move_event",
    "cancel_event",
    "invite_attendee",
    "respond_to_event",
    "book_room",
    "set_reminder",
)


@register_suite
class CalendarSuite(Suite):
    name = "calendar"
    domain = "calendar"
    description = "Schedule meetings with colleagues, book rooms, set reminders and convert time zones."
    dependencies = (
        *(
            _needs_login(t)
            for t in (
                "calendar_logout",
                "get_free_busy",
                "find_common_free_slot",
                "create_event",
                "create_recurring_event",
                "list_events",
                "search_events",
                "cancel_series",
                "delete_reminder",
                *_EVENT_ID_USERS,
            )
        ),
        _d("calendar_login", "get_free_busy", "user_id", "user_id"),
        _d("find_contact", "get_contact", "user_id", "user_id"),
        _d("find_contact", "get_free_busy", "user_id", "user_id"),
        _d("find_contact", "find_common_free_slot", "user_id", "user_ids"),
        _d("find_contact", "create_event", "user_id", "attendee_ids"),
        _d("find_contact", "create_recurring_event", "user_id", "attendee_ids"),
        _d("find_contact", "invite_attendee", "user_id", "user_id"),
        _d("find_common_free_slot", "create_event", "slots[].start", "start"),
        _d("get_free_busy", "create_event", "free[].start", "start"),
        _d("convert_timezone", "create_event", "converted_time", "start"),
        _d("convert_timezone", "create_recurring_event", "converted_time", "start"),
        _d("convert_timezone", "move_event", "converted_time", "new_start"),
        _d("convert_timezone", "find_available_rooms", "converted_time", "start"),
        _d("find_available_rooms", "book_room", "rooms[].room_id", "room_id"),
        _d("find_available_rooms", "create_event", "rooms[].room_id", "room_id"),
        *(_d("create_event", t, "event_id", "event_id") for t in _EVENT_ID_USERS if t != "respond_to_event"),
        *(_d("list_events", t, "events[].event_id", "event_id") for t in _EVENT_ID_USERS),
        *(_d("search_events", t, "events[].event_id", "event_id") for t in _EVENT_ID_USERS),
        _d("create_recurring_event", "cancel_series", "series_id", "series_id"),
        _d("create_recurring_event", "set_reminder", "occurrences[].event_id", "event_id"),
        _d("create_recurring_event", "get_event", "occurrences[].event_id", "event_id"),
        _d("get_event", "cancel_series", "series_id", "series_id"),
        _d("set_reminder", "delete_reminder", "reminder_id", "reminder_id"),
    )

    # State (public attributes, set from data/calendar.json). All times are UTC, "YYYY-MM-DDTHH:MM".
    today: str
    now: str
    timezones: dict[str, int]  # fixed UTC offsets in minutes for the current season
    accounts: dict[str, dict[str, str]]
    session_user: str | None
    users: dict[str, dict[str, Any]]
    rooms: dict[str, dict[str, Any]]
    events: dict[str, dict[str, Any]]
    series: dict[str, dict[str, Any]]
    reminders: dict[str, dict[str, Any]]
    next_id: int

    # -------------------------------------------------------------- helpers (private: not tools)

    def _require_login(self) -> str:
        if not self.session_user:
            raise ToolError("No active calendar session: log in with calendar_login first.", "precondition")
        return self.session_user

    def _new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def _user(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.users:
            raise ToolError(f"No person with user id {user_id!r} in the directory.", "not_found")
        return self.users[user_id]

    def _room(self, room_id: str) -> dict[str, Any]:
        if room_id not in self.rooms:
            raise ToolError(f"No room with id {room_id!r}.", "not_found")
        return self.rooms[room_id]

    def _event(self, event_id: str) -> dict[str, Any]:
        if event_id not in self.events:
            raise ToolError(f"No event with id {event_id!r}.", "not_found")
        return self.events[event_id]

    def _visible_event(self, event_id: str) -> dict[str, Any]:
        user = self._require_login()
        event = self._event(event_id)
        if event["organizer"] != user and user not in event["attendees"]:
            raise ToolError(f"Event {event_id} is on someone else's calendar and is private.", "permission")
        return event

    def _organized_event(self, event_id: str) -> dict[str, Any]:
        user = self._require_login()
        event = self._event(event_id)
        if event["organizer"] != user:
            raise ToolError(f"Only the organizer of {event_id} can change it.", "permission")
        if event["status"] != "confirmed":
            raise ToolError(f"Event {event_id} is {event['status']}.", "conflict")
        if _parse(event["start"], "start") < self._now():
            raise ToolError(
                f"Event {event_id} has already started; past events cannot be changed.", "invalid"
            )
        return event

    def _now(self) -> datetime:
        return _parse(self.now, "now")

    def _tz_offset(self, zone: str) -> timedelta:
        if zone not in self.timezones:
            known = ", ".join(sorted(self.timezones))
            raise ToolError(f"Unknown time zone {zone!r}; known zones: {known}.", "not_found")
        return timedelta(minutes=self.timezones[zone])

    def _future_start(self, value: str, field: str) -> datetime:
        start = _parse(value, field)
        if start < self._now():
            raise ToolError(f"{field} {value} is in the past (it is now {self.now} UTC).", "invalid")
        return start

    def _busy(self, user_id: str, start: datetime, end: datetime, ignore: str | None = None) -> list[str]:
        """Ids of confirmed events of ``user_id`` overlapping [start, end) that they have not declined."""
        clashes = []
        for eid, event in sorted(self.events.items()):
            if eid == ignore or event["status"] != "confirmed":
                continue
            attends = (
                event["organizer"] == user_id or event["attendees"].get(user_id, "declined") != "declined"
            )
            if attends and _parse(event["start"], "start") < end and start < _parse(event["end"], "end"):
                clashes.append(eid)
        return clashes

    def _check_people_free(
        self, people: list[str], start: datetime, end: datetime, ignore: str | None = None
    ) -> None:
        for person in people:
            clashes = self._busy(person, start, end, ignore)
            if clashes:
                who = self.users[person]["name"]
                raise ToolError(
                    f"{who} ({person}) is busy between {_fmt(start)} and {_fmt(end)} "
                    f"(event {clashes[0]}); pick another time.",
                    "conflict",
                )

    def _check_room(
        self, room_id: str, people: int, start: datetime, end: datetime, ignore: str | None
    ) -> None:
        room = self._room(room_id)
        if room["capacity"] < people:
            raise ToolError(
                f"Room {room_id} ({room['name']}) seats {room['capacity']}, "
                f"fewer than the {people} people invited.",
                "invalid",
            )
        for eid, event in sorted(self.events.items()):
            if eid == ignore or event["status"] != "confirmed" or event["room_id"] != room_id:
                continue
            if _parse(event["start"], "start") < end and start < _parse(event["end"], "end"):
                raise ToolError(f"Room {room_id} is already booked then (event {eid}).", "conflict")

    def _attendee_ids(self, attendee_ids: list[str] | None, organizer: str) -> list[str]:
        ids: list[str] = []
        for uid in attendee_ids or []:
            self._user(uid)
            if uid != organizer and uid not in ids:
                ids.append(uid)
        return ids

    def _working_windows(self, user_id: str, day: date) -> list[tuple[datetime, datetime]]:
        """The person's working hours (Monday to Friday, local time) that fall on the UTC date ``day``."""
        person = self.users[user_id]
        offset = self._tz_offset(person["timezone"])
        day_start = datetime.combine(day, datetime.min.time())
        day_end = day_start + timedelta(days=1)
        hours = person["working_hours"]
        windows = []
        for shift in (-1, 0, 1):
            local_day = day + timedelta(days=shift)
            if local_day.weekday() >= 5:
                continue
            local = datetime.combine(local_day, datetime.min.time())
            begin = local + _clock(hours["start"]) - offset
            finish = local + _clock(hours["end"]) - offset
            begin, finish = max(begin, day_start), min(finish, day_end)
            if begin < finish:
                windows.append((begin, finish))
        return windows

    def _free_windows(self, user_id: str, day: date) -> list[tuple[datetime, datetime]]:
        free = self._working_windows(user_id, day)
        for begin, finish in self._busy_intervals(user_id, day):
            free = _subtract(free, begin, finish)
        return free

    def _busy_intervals(self, user_id: str, day: date) -> list[tuple[datetime, datetime]]:
        day_start = datetime.combine(day, datetime.min.time())
        intervals = []
        for eid in self._busy(user_id, day_start, day_start + timedelta(days=1)):
            event = self.events[eid]
            intervals.append((_parse(event["start"], "start"), _parse(event["end"], "end")))
        return sorted(intervals)

    def _store_event(
        self,
        title: str,
        organizer: str,
        attendees: list[str],
        begin: datetime,
        finish: datetime,
        room_id: str | None,
        series_id: str | None,
        description: str,
    ) -> str:
        event_id = self._new_id("EV")
        self.events[event_id] = {
            "title": title.strip(),
            "organizer": organizer,
            "attendees": dict.fromkeys(attendees, "needs_action"),
            "start": _fmt(begin),
            "end": _fmt(finish),
            "room_id": room_id,
            "series_id": series_id,
            "status": "confirmed",
            "description": description,
        }
        return event_id

    def _event_view(self, event_id: str) -> dict[str, Any]:
        event = self.events[event_id]
        return {
            "event_id": event_id,
            "title": event["title"],
            "start": event["start"],
            "end": event["end"],
            "organizer_id": event["organizer"],
            "organizer_name": self.users[event["organizer"]]["name"],
            "attendees": [
                {"user_id": uid, "name": self.users[uid]["name"], "response": response}
                for uid, response in sorted(event["attendees"].items())
            ],
            "room_id": event["room_id"],
            "series_id": event["series_id"],
            "status": event["status"],
            "description": event["description"],
        }

    def _event_row(self, event_id: str) -> dict[str, Any]:
        event = self.events[event_id]
        return {
            "event_id": event_id,
            "title": event["title"],
            "start": event["start"],
            "end": event["end"],
            "organizer_id": event["organizer"],
            "room_id": event["room_id"],
            "status": event["status"],
        }

    def _my_event_ids(self, user: str) -> list[str]:
        mine = [eid for eid, e in self.events.items() if e["organizer"] == user or user in e["attendees"]]
        return sorted(mine, key=lambda eid: (self.events[eid]["start"], eid))

    # -------------------------------------------------------------- session and directory

    def calendar_login(self, username: str, password: str) -> dict[str, Any]:
        """Log in to the company calendar.

        Args:
            username: The account's username, for example "mchen".
            password: The account's password.

        Returns:
            The logged-in person's user id, name and time zone.
        """
        account = self.accounts.get(username)
        if account is None or account["password"] != password:
            raise ToolError("Wrong username or password.", "permission")
        self.session_user = account["user_id"]
        person = self.users[account["user_id"]]
        return {"user_id": account["user_id"], "name": person["name"], "timezone": person["timezone"]}

    def calendar_logout(self) -> dict[str, Any]:
        """Log out of the company calendar.

        Returns:
            Whether a session was closed.
        """
        if not self.session_user:
            raise ToolError("Nobody is logged in to the calendar.", "precondition")
        self.session_user = None
        return {"logged_out": True}

    def find_contact(self, name: str) -> dict[str, Any]:
        """Look a colleague up in the company directory by name.

        Args:
            name: Full name or a part of it (first or last name); accents and case are ignored.

        Returns:
            The person's user id, name, email, department and time zone.
        """
        wanted = _fold(name)
        if not wanted:
            raise ToolError("Give a name to search for.", "invalid")
        people = sorted(self.users.items())
        exact = [uid for uid, p in people if _fold(p["name"]) == wanted]
        matches = exact or [uid for uid, p in people if wanted in _fold(p["name"]).split()]
        if not matches:
            raise ToolError(f"Nobody named {name!r} in the directory.", "not_found")
        if len(matches) > 1:
            names = "; ".join(
                f"{self.users[uid]['name']} ({self.users[uid]['department']})" for uid in matches
            )
            raise ToolError(f"{name!r} matches several people: {names}. Use the full name.", "invalid")
        uid = matches[0]
        person = self.users[uid]
        return {
            "user_id": uid,
            "name": person["name"],
            "email": person["email"],
            "department": person["department"],
            "timezone": person["timezone"],
        }

    def get_contact(self, user_id: str) -> dict[str, Any]:
        """Show a colleague's directory entry.

        Args:
            user_id: The person's user id, for example "U104".

        Returns:
            Name, email, department, job title, time zone and local working hours.
        """
        person = self._user(user_id)
        return {"user_id": user_id, **person}

    def convert_timezone(self, time: str, from_timezone: str, to_timezone: str) -> dict[str, Any]:
        """Convert a date and time from one time zone to another.

        Args:
            time: The date and time as YYYY-MM-DDTHH:MM.
            from_timezone: Zone the time is given in, e.g. "Asia/Tokyo" or "UTC".
            to_timezone: Zone to express it in, e.g. "UTC".

        Returns:
            The converted date and time and the zone it is in.
        """
        moment = _parse(time, "time")
        converted = moment - self._tz_offset(from_timezone) + self._tz_offset(to_timezone)
        return {"converted_time": _fmt(converted), "timezone": to_timezone}

    # -------------------------------------------------------------- availability

    def get_free_busy(self, user_id: str, date: str) -> dict[str, Any]:
        """Show when a person is busy and free during their working hours on one day.

        Args:
            user_id: The person's user id.
            date: The UTC date as YYYY-MM-DD.

        Returns:
            Busy intervals (no titles: calendars are private) and free intervals within working hours, in UTC.
        """
        self._require_login()
        person = self._user(user_id)
        day = _parse_date(date, "date")
        return {
            "user_id": user_id,
            "date": date,
            "timezone": person["timezone"],
            "busy": [{"start": _fmt(b), "end": _fmt(e)} for b, e in self._busy_intervals(user_id, day)],
            "free": [{"start": _fmt(b), "end": _fmt(e)} for b, e in self._free_windows(user_id, day)],
        }

    def find_common_free_slot(
        self, user_ids: list[str], date: str, duration_minutes: int = 30, include_me: bool = True
    ) -> dict[str, Any]:
        """Find meeting times on one day when all the given people are free within their working hours.

        Args:
            user_ids: User ids of the people who must attend.
            date: The UTC date as YYYY-MM-DD.
            duration_minutes: Length of the meeting in minutes.
            include_me: Whether the logged-in person must be free too.

        Returns:
            Up to ten candidate slots (UTC start and end, on the half hour), earliest first.
        """
        me = self._require_login()
        if not 5 <= duration_minutes <= 480:
            raise ToolError("duration_minutes must be between 5 and 480.", "invalid")
        people = list(dict.fromkeys([*user_ids, *([me] if include_me else [])]))
        if not people:
            raise ToolError("Name at least one person.", "invalid")
        for uid in people:
            self._user(uid)
        day = _parse_date(date, "date")
        common = self._free_windows(people[0], day)
        for uid in people[1:]:
            common = _intersect(common, self._free_windows(uid, day))
        length = timedelta(minutes=duration_minutes)
        slots: list[dict[str, str]] = []
        for begin, finish in common:
            start = max(_round_up(begin), _round_up(self._now()))
            while start + length <= finish and len(slots) < _MAX_SLOTS:
                slots.append({"start": _fmt(start), "end": _fmt(start + length)})
                start += _SLOT_STEP
        return {"date": date, "duration_minutes": duration_minutes, "participants": people, "slots": slots}

    def find_available_rooms(
        self, start: str, duration_minutes: int = 30, min_capacity: int = 1, equipment: str | None = None
    ) -> dict[str, Any]:
        """Find meeting rooms that are free for a time and seat enough people.

        Args:
            start: Start as YYYY-MM-DDTHH:MM in UTC.
            duration_minutes: How long the room is needed, in minutes.
            min_capacity: The fewest seats the room must have.
            equipment: Equipment the room must have (whiteboard, tv, projector, video_conference, microphone).

        Returns:
            Free rooms with their id, name, floor, capacity and equipment, smallest first.
        """
        begin = self._future_start(start, "start")
        finish = begin + _duration(duration_minutes)
        if min_capacity < 1:
            raise ToolError("min_capacity must be at least 1.", "invalid")
        known = {item for room in self.rooms.values() for item in room["equipment"]}
        if equipment is not None and equipment not in known:
            raise ToolError(
                f"Unknown equipment {equipment!r}; rooms offer: {', '.join(sorted(known))}.", "invalid"
            )
        rooms = []
        for rid, room in sorted(self.rooms.items(), key=lambda kv: (kv[1]["capacity"], kv[0])):
            if room["capacity"] < min_capacity or (equipment and equipment not in room["equipment"]):
                continue
            try:
                self._check_room(rid, 1, begin, finish, None)
            except ToolError:
                continue
            rooms.append({"room_id": rid, **room})
        return {"start": _fmt(begin), "end": _fmt(finish), "rooms": rooms}

    # -------------------------------------------------------------- events

    def create_event(
        self,
        title: str,
        start: str,
        duration_minutes: int = 30,
        attendee_ids: list[str] | None = None,
        room_id: str | None = None,
        description: str = "",
    ) -> dict[str, Any]:
        """Create a meeting organized by the logged-in person and invite colleagues.

        The meeting is refused if the organizer, an attendee or the room is already busy at that time.

        Args:
            title: The meeting's title.
            start: Start as YYYY-MM-DDTHH:MM in UTC; not in the past.
            duration_minutes: Length in minutes (at most 12 hours).
            attendee_ids: User ids of the people to invite.
            room_id: Id of a meeting room to book for it.
            description: Agenda or notes.

        Returns:
            The new event's id, its UTC start and end, and the invited user ids.
        """
        me = self._require_login()
        if not title.strip():
            raise ToolError("The meeting needs a title.", "invalid")
        begin = self._future_start(start, "start")
        finish = begin + _duration(duration_minutes)
        attendees = self._attendee_ids(attendee_ids, me)
        self._check_people_free([me, *attendees], begin, finish)
        if room_id is not None:
            self._check_room(room_id, len(attendees) + 1, begin, finish, None)
        event_id = self._store_event(title, me, attendees, begin, finish, room_id, None, description)
        return {"event_id": event_id, "start": _fmt(begin), "end": _fmt(finish), "attendee_ids": attendees}

    def create_recurring_event(
        self,
        title: str,
        start: str,
        frequency: Frequency,
        occurrences: int,
        duration_minutes: int = 30,
        attendee_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Create a recurring meeting series; refused if any occurrence clashes with someone's calendar.

        Args:
            title: The meeting's title.
            start: First occurrence's start as YYYY-MM-DDTHH:MM in UTC; not in the past.
            frequency: How often it repeats ("weekdays" skips Saturdays and Sundays).
            occurrences: How many meetings in the series (2 to 52).
            duration_minutes: Length of each meeting in minutes.
            attendee_ids: User ids of the people to invite.

        Returns:
            The series id and each occurrence's event id and start.
        """
        me = self._require_login()
        if not title.strip():
            raise ToolError("The meeting needs a title.", "invalid")
        if not 2 <= occurrences <= 52:
            raise ToolError("A series has between 2 and 52 occurrences.", "invalid")
        first = self._future_start(start, "start")
        length = _duration(duration_minutes)
        if frequency == "monthly" and first.day > 28:
            raise ToolError("Monthly series must start on day 1 to 28 of a month.", "invalid")
        attendees = self._attendee_ids(attendee_ids, me)
        starts = _recurrence(first, frequency, occurrences)
        for begin in starts:
            self._check_people_free([me, *attendees], begin, begin + length)
        series_id = self._new_id("SR")
        created = []
        for begin in starts:
            event_id = self._store_event(title, me, attendees, begin, begin + length, None, series_id, "")
            created.append({"event_id": event_id, "start": _fmt(begin)})
        self.series[series_id] = {
            "title": title.strip(), "organizer": me, "frequency": frequency,
            "event_ids": [c["event_id"] for c in created],
        }  # fmt: skip
        return {"series_id": series_id, "occurrences": created}

    def get_event(self, event_id: str) -> dict[str, Any]:
        """Show one event on the logged-in person's calendar.

        Args:
            event_id: The event's id.

        Returns:
            Title, UTC start and end, organizer, attendees with their responses, room, series and status.
        """
        self._visible_event(event_id)
        return self._event_view(event_id)

    def list_events(self, start_date: str, end_date: str | None = None) -> dict[str, Any]:
        """List the logged-in person's events (organized or invited) between two dates.

        Args:
            start_date: First UTC date as YYYY-MM-DD.
            end_date: Last UTC date as YYYY-MM-DD, included; the same as start_date when omitted.

        Returns:
            Events in start order with id, title, UTC start and end, organizer, room and status.
        """
        me = self._require_login()
        first = _parse_date(start_date, "start_date")
        last = _parse_date(end_date, "end_date") if end_date is not None else first
        if last < first:
            raise ToolError("end_date is before start_date.", "invalid")
        if (last - first).days >= _MAX_LIST_DAYS:
            raise ToolError(f"List at most {_MAX_LIST_DAYS} days at a time.", "invalid")
        rows = [
            self._event_row(eid)
            for eid in self._my_event_ids(me)
            if first <= _parse(self.events[eid]["start"], "start").date() <= last
        ]
        return {"start_date": start_date, "end_date": end_date or start_date, "events": rows}

    def search_events(self, query: str, include_past: bool = False) -> dict[str, Any]:
        """Search the logged-in person's events by words in their title.

        Args:
            query: Text to look for in event titles (case-insensitive).
            include_past: Whether to include events that already ended.

        Returns:
            Matching events in start order with id, title, UTC start and end, organizer, room and status.
        """
        me = self._require_login()
        wanted = _fold(query)
        if not wanted:
            raise ToolError("Give some text to search for.", "invalid")
        now = self._now()
        rows = [
            self._event_row(eid)
            for eid in self._my_event_ids(me)
            if wanted in _fold(self.events[eid]["title"])
            and (include_past or _parse(self.events[eid]["end"], "end") > now)
        ]
        return {"query": query, "events": rows}

    def move_event(self, event_id: str, new_start: str) -> dict[str, Any]:
        """Move a meeting organized by the logged-in person to a new start time, keeping its length.

        Refused if an attendee, the organizer or the booked room is busy at the new time.

        Args:
            event_id: The event's id.
            new_start: New start as YYYY-MM-DDTHH:MM in UTC; not in the past.

        Returns:
            The event's id and its new UTC start and end.
        """
        event = self._organized_event(event_id)
        begin = self._future_start(new_start, "new_start")
        finish = begin + (_parse(event["end"], "end") - _parse(event["start"], "start"))
        people = [event["organizer"], *(u for u, r in event["attendees"].items() if r != "declined")]
        self._check_people_free(people, begin, finish, ignore=event_id)
        if event["room_id"] is not None:
            self._check_room(event["room_id"], len(event["attendees"]) + 1, begin, finish, event_id)
        event["start"], event["end"] = _fmt(begin), _fmt(finish)
        return {"event_id": event_id, "start": event["start"], "end": event["end"]}

    def cancel_event(self, event_id: str, notify_attendees: bool = True) -> dict[str, Any]:
        """Cancel one meeting organized by the logged-in person; its room is released.

        Args:
            event_id: The event's id (one occurrence, for a recurring series).
            notify_attendees: Whether to email the attendees about the cancellation.

        Returns:
            The event's id, its new status and how many people were notified.
        """
        event = self._organized_event(event_id)
        event["status"] = "cancelled"
        notified = len(event["attendees"]) if notify_attendees else 0
        return {"event_id": event_id, "status": "cancelled", "notified": notified}

    def cancel_series(self, series_id: str) -> dict[str, Any]:
        """Cancel every future occurrence of a recurring series organized by the logged-in person.

        Args:
            series_id: The series id (shown on each occurrence's event).

        Returns:
            The series id and the ids of the cancelled occurrences.
        """
        me = self._require_login()
        if series_id not in self.series:
            raise ToolError(f"No recurring series with id {series_id!r}.", "not_found")
        if self.series[series_id]["organizer"] != me:
            raise ToolError(f"Only the organizer of series {series_id} can cancel it.", "permission")
        now = self._now()
        cancelled = []
        for eid in self.series[series_id]["event_ids"]:
            event = self.events[eid]
            if event["status"] == "confirmed" and _parse(event["start"], "start") >= now:
                event["status"] = "cancelled"
                cancelled.append(eid)
        if not cancelled:
            raise ToolError(f"Series {series_id} has no future occurrences left to cancel.", "conflict")
        return {"series_id": series_id, "cancelled_event_ids": cancelled}

    def invite_attendee(self, event_id: str, user_id: str) -> dict[str, Any]:
        """Invite one more person to a meeting organized by the logged-in person.

        Refused if the person is busy then or the booked room has no seat left.

        Args:
            event_id: The event's id.
            user_id: The invitee's user id.

        Returns:
            The event's id and the updated list of attendee ids.
        """
        event = self._organized_event(event_id)
        person = self._user(user_id)
        if user_id == event["organizer"] or user_id in event["attendees"]:
            raise ToolError(f"{person['name']} is already on event {event_id}.", "conflict")
        begin, finish = _parse(event["start"], "start"), _parse(event["end"], "end")
        self._check_people_free([user_id], begin, finish, ignore=event_id)
        if event["room_id"] is not None:
            room = self.rooms[event["room_id"]]
            if room["capacity"] < len(event["attendees"]) + 2:
                raise ToolError(f"Room {event['room_id']} is full (capacity {room['capacity']}).", "conflict")
        event["attendees"][user_id] = "needs_action"
        return {"event_id": event_id, "attendee_ids": sorted(event["attendees"])}

    def respond_to_event(self, event_id: str, response: Response) -> dict[str, Any]:
        """Answer an invitation on the logged-in person's calendar.

        Args:
            event_id: The event's id.
            response: The answer to give.

        Returns:
            The event's id and the recorded response.
        """
        me = self._require_login()
        event = self._visible_event(event_id)
        if me not in event["attendees"]:
            raise ToolError("Organizers do not respond to their own events.", "invalid")
        if event["status"] != "confirmed":
            raise ToolError(f"Event {event_id} is {event['status']}.", "conflict")
        if response != "declined" and event["attendees"][me] == "declined":
            self._check_people_free(
                [me], _parse(event["start"], "start"), _parse(event["end"], "end"), event_id
            )
        event["attendees"][me] = response
        return {"event_id": event_id, "response": response}

    def book_room(self, event_id: str, room_id: str) -> dict[str, Any]:
        """Book a meeting room for a meeting organized by the logged-in person (replacing any earlier room).

        Args:
            event_id: The event's id.
            room_id: The room's id.

        Returns:
            The event's id and the booked room's id, name and floor.
        """
        event = self._organized_event(event_id)
        begin, finish = _parse(event["start"], "start"), _parse(event["end"], "end")
        self._check_room(room_id, len(event["attendees"]) + 1, begin, finish, event_id)
        event["room_id"] = room_id
        room = self.rooms[room_id]
        return {"event_id": event_id, "room_id": room_id, "room_name": room["name"], "floor": room["floor"]}

    # -------------------------------------------------------------- reminders

    def set_reminder(
        self, event_id: str, minutes_before: int = 15, method: ReminderMethod = "popup"
    ) -> dict[str, Any]:
        """Set a reminder for the logged-in person before one of their events.

        Args:
            event_id: The event's id.
            minutes_before: How many minutes before the start to remind (0 to 10080, one week).
            method: How to remind.

        Returns:
            The reminder's id and when it will fire (UTC).
        """
        me = self._require_login()
        event = self._visible_event(event_id)
        if event["status"] != "confirmed":
            raise ToolError(f"Event {event_id} is {event['status']}.", "conflict")
        if not 0 <= minutes_before <= 10080:
            raise ToolError("minutes_before must be between 0 and 10080.", "invalid")
        fire_at = _parse(event["start"], "start") - timedelta(minutes=minutes_before)
        if fire_at < self._now():
            raise ToolError(f"A reminder at {_fmt(fire_at)} would already be in the past.", "invalid")
        for r in self.reminders.values():
            same = (r["event_id"], r["user_id"], r["minutes_before"], r["method"])
            if same == (event_id, me, minutes_before, method):
                raise ToolError("This reminder already exists.", "conflict")
        reminder_id = self._new_id("RM")
        self.reminders[reminder_id] = {
            "event_id": event_id, "user_id": me, "minutes_before": minutes_before, "method": method,
        }  # fmt: skip
        return {
            "reminder_id": reminder_id,
            "event_id": event_id,
            "remind_at": _fmt(fire_at),
            "method": method,
        }

    def delete_reminder(self, reminder_id: str) -> dict[str, Any]:
        """Delete one of the logged-in person's reminders.

        Args:
            reminder_id: The reminder's id.

        Returns:
            The deleted reminder's id.
        """
        me = self._require_login()
        reminder = self.reminders.get(reminder_id)
        if reminder is None or reminder["user_id"] != me:
            raise ToolError(f"You have no reminder with id {reminder_id!r}.", "not_found")
        del self.reminders[reminder_id]
        return {"reminder_id": reminder_id, "deleted": True}


# ------------------------------------------------------------------------------------------ time helpers


def _parse(value: str, field: str) -> datetime:
    """A UTC date-time from "YYYY-MM-DDTHH:MM" (a trailing "Z" or "+00:00" offset is converted)."""
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "T"))
    except ValueError:
        raise ToolError(
            f"{field} {value!r} is not a date and time like 2026-03-04T15:30.", "invalid"
        ) from None
    if moment.tzinfo is not None:
        offset = moment.utcoffset() or timedelta(0)
        moment = moment.replace(tzinfo=None) - offset
    return moment.replace(second=0, microsecond=0)


def _parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ToolError(f"{field} {value!r} is not a date like 2026-03-04.", "invalid") from None


def _fmt(moment: datetime) -> str:
    return moment.strftime(_TIME_FORMAT)


def _clock(value: str) -> timedelta:
    hours, minutes = value.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def _duration(minutes: int) -> timedelta:
    if not 5 <= minutes <= _MAX_EVENT_MINUTES:
        raise ToolError(f"duration_minutes must be between 5 and {_MAX_EVENT_MINUTES}.", "invalid")
    return timedelta(minutes=minutes)


def _round_up(moment: datetime) -> datetime:
    base = moment.replace(minute=0)
    while base < moment:
        base += _SLOT_STEP
    return base


def _subtract(
    windows: list[tuple[datetime, datetime]], begin: datetime, finish: datetime
) -> list[tuple[datetime, datetime]]:
    out = []
    for a, b in windows:
        if finish <= a or b <= begin:
            out.append((a, b))
            continue
        if a < begin:
            out.append((a, begin))
        if finish < b:
            out.append((finish, b))
    return out


def _intersect(
    left: list[tuple[datetime, datetime]], right: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    out = []
    for a, b in left:
        for c, d in right:
            begin, finish = max(a, c), min(b, d)
            if begin < finish:
                out.append((begin, finish))
    return sorted(out)


def _recurrence(first: datetime, frequency: str, count: int) -> list[datetime]:
    starts = [first]
    current = first
    while len(starts) < count:
        if frequency == "monthly":
            month = current.month % 12 + 1
            current = current.replace(year=current.year + (current.month == 12), month=month)
        elif frequency == "weekly":
            current += timedelta(days=7)
        else:
            current += timedelta(days=1)
            if frequency == "weekdays":
                while current.weekday() >= 5:
                    current += timedelta(days=1)
        starts.append(current)
    return starts


def _fold(text: str) -> str:
    """Lower case without accents or surrounding space, so "Joao silva" finds "João Silva"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.lower().split())
