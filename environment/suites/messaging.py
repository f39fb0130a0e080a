"""A small social network: users, direct messages, contacts, blocking, follows, posts, likes and comments.

Structure that makes data hard: people are named by the user but every tool takes a user id (found by
name); acting needs a login as a particular user (by id and password); messages and posts are addressed
by ids that come back from listing, searching or creating them.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import JsonValue

from hardgen.environment.base import Dependency, Suite, ToolError, collect_entities
from hardgen.environment.registry import register_suite
from hardgen.schema import canonical_json

_LOGIN_TOOLS = (
    "messaging_logout",
    "send_message",
    "view_inbox",
    "read_message",
    "delete_message",
    "search_messages",
    "list_sent_messages",
    "add_messaging_contact",
    "remove_messaging_contact",
    "list_messaging_contacts",
    "block_user",
    "follow_user",
    "unfollow_user",
    "publish_post",
    "delete_post",
    "view_feed",
    "comment_on_post",
    "like_post",
)
_USER_ID_PARAMS = (
    ("messaging_login", "user_id"),
    ("send_message", "receiver_id"),
    ("view_user_profile", "user_id"),
    ("add_messaging_contact", "user_id"),
    ("remove_messaging_contact", "user_id"),
    ("block_user", "user_id"),
    ("follow_user", "user_id"),
    ("unfollow_user", "user_id"),
    ("list_user_posts", "user_id"),
    ("list_followers", "user_id"),
)
_POST_ID_PARAMS = (("view_post", "post_id"), ("comment_on_post", "post_id"), ("like_post", "post_id"))
_MAX_TEXT = 1000


@register_suite
class MessagingSuite(Suite):
    name = "messaging"
    domain = "social"
    description = "Message people, manage contacts and follows, publish posts, like and comment on them."
    dependencies = (
        *(Dependency("messaging_login", tool, "prerequisite") for tool in _LOGIN_TOOLS),
        *(Dependency("lookup_user_id", tool, "value", "user_id", param) for tool, param in _USER_ID_PARAMS),
        Dependency("list_messaging_contacts", "send_message", "value", "contacts[].user_id", "receiver_id"),
        Dependency(
            "list_messaging_contacts", "remove_messaging_contact", "value", "contacts[].user_id", "user_id"
        ),
        Dependency("view_inbox", "send_message", "value", "messages[].sender_id", "receiver_id"),
        Dependency("view_inbox", "block_user", "value", "messages[].sender_id", "user_id"),
        *(
            Dependency(source, tool, "value", "messages[].message_id", "message_id")
            for source in ("view_inbox", "search_messages", "list_sent_messages")
            for tool in ("read_message", "delete_message")
        ),
        Dependency("send_message", "read_message", "value", "message_id", "message_id"),
        Dependency("send_message", "delete_message", "value", "message_id", "message_id"),
        *(Dependency("list_user_posts", tool, "value", "posts[].post_id", p) for tool, p in _POST_ID_PARAMS),
        *(Dependency("view_feed", tool, "value", "posts[].post_id", p) for tool, p in _POST_ID_PARAMS),
        Dependency("publish_post", "view_post", "value", "post_id", "post_id"),
        Dependency("publish_post", "delete_post", "value", "post_id", "post_id"),
        Dependency("list_user_posts", "delete_post", "value", "posts[].post_id", "post_id"),
        Dependency("view_post", "follow_user", "value", "author_id", "user_id"),
        Dependency("view_post", "send_message", "value", "author_id", "receiver_id"),
        Dependency("list_followers", "follow_user", "value", "followers[].user_id", "user_id"),
    )

    # State (public attributes, set from data/messaging.json).
    today: str
    users: dict[str, dict[str, Any]]
    session_user: str | None
    messages: dict[str, dict[str, Any]]
    contacts: dict[str, list[str]]
    blocked: dict[str, list[str]]
    following: dict[str, list[str]]
    posts: dict[str, dict[str, Any]]
    next_id: int

    # -------------------------------------------------------------- helpers (private: not tools)

    def _require_login(self) -> str:
        if not self.session_user:
            raise ToolError("Not logged in: log in as a user (user id and password) first.", "precondition")
        return self.session_user

    def _new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            hint = (
                " User ids look like USR101; look the person up by name first."
                if not user_id.startswith("USR")
                else ""
            )
            raise ToolError(f"No user with id {user_id!r}.{hint}", "not_found")
        return user

    def _other_user(self, user_id: str) -> tuple[str, dict[str, Any]]:
        me = self._require_login()
        user = self._user(user_id)
        if user_id == me:
            raise ToolError("That is your own user id.", "invalid")
        return me, user

    def _text(self, text: str, what: str) -> str:
        text = text.strip()
        if not text:
            raise ToolError(f"The {what} is empty.", "invalid")
        if len(text) > _MAX_TEXT:
            raise ToolError(f"The {what} is longer than {_MAX_TEXT} characters.", "invalid")
        return text

    def _post(self, post_id: str) -> dict[str, Any]:
        post = self.posts.get(post_id)
        if post is None:
            raise ToolError(f"No post with id {post_id!r}.", "not_found")
        return post

    def _visible_message(self, message_id: str) -> dict[str, Any]:
        me = self._require_login()
        message = self.messages.get(message_id)
        if message is None or me not in (message["sender"], message["receiver"]):
            raise ToolError(f"No message with id {message_id!r} in your mailbox.", "not_found")
        return message

    def _summary(self, message_id: str, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "sender_id": message["sender"],
            "sender_name": self.users[message["sender"]]["name"],
            "receiver_id": message["receiver"],
            "receiver_name": self.users[message["receiver"]]["name"],
            "text": message["text"],
            "date": message["date"],
            "read": message["read"],
        }

    def _post_summary(self, post_id: str, post: dict[str, Any]) -> dict[str, Any]:
        return {
            "post_id": post_id,
            "author_id": post["author"],
            "author_name": self.users[post["author"]]["name"],
            "text": post["text"],
            "date": post["date"],
            "likes": len(post["likes"]),
            "comments": len(post["comments"]),
        }

    def entities(self) -> dict[str, list[JsonValue]]:
        found = collect_entities(json.loads(canonical_json(self.snapshot()["state"])))  # key order free
        found["name"] = [u["name"] for _, u in sorted(self.users.items())]
        found["user_id"] = list[JsonValue](sorted(self.users))
        found["receiver_id"] = list[JsonValue](sorted(self.users))
        found["password"] = [u["password"] for _, u in sorted(self.users.items())]
        found["message_id"] = list[JsonValue](sorted(self.messages))
        found["post_id"] = list[JsonValue](sorted(self.posts))
        return found

    # -------------------------------------------------------------- session and people

    def messaging_login(self, user_id: str, password: str) -> dict[str, Any]:
        """Log in to the social network as a user.

        Args:
            user_id: The user's id, for example "USR101".
            password: The user's password.

        Returns:
            The logged-in user's id and name, and how many unread messages they have.
        """
        user = self.users.get(user_id)
        if user is None or user["password"] != password:
            raise ToolError("Wrong user id or password.", "permission")
        self.session_user = user_id
        unread = sum(1 for m in self.messages.values() if m["receiver"] == user_id and not m["read"])
        return {"user_id": user_id, "name": user["name"], "unread_messages": unread}

    def messaging_logout(self) -> dict[str, Any]:
        """Log out of the social network.

        Returns:
            Confirmation that the session was closed.
        """
        me = self._require_login()
        self.session_user = None
        return {"user_id": me, "logged_out": True}

    def lookup_user_id(self, name: str) -> dict[str, Any]:
        """Find a user's id from their full name.

        Args:
            name: The person's full name, for example "Grace Okafor".

        Returns:
            The user's id, name and username.
        """
        wanted = " ".join(name.split()).lower()
        for user_id, user in sorted(self.users.items()):
            if user["name"].lower() == wanted:
                return {"user_id": user_id, "name": user["name"], "username": user["username"]}
        raise ToolError(f"No user named {name!r}.", "not_found")

    def view_user_profile(self, user_id: str) -> dict[str, Any]:
        """Show a user's public profile.

        Args:
            user_id: The user's id.

        Returns:
            Name, username, bio, location and the numbers of followers, followed users and posts.
        """
        user = self._user(user_id)
        return {
            "user_id": user_id,
            "name": user["name"],
            "username": user["username"],
            "bio": user["bio"],
            "location": user["location"],
            "followers": sum(1 for f in self.following.values() if user_id in f),
            "following": len(self.following.get(user_id, [])),
            "posts": sum(1 for p in self.posts.values() if p["author"] == user_id),
        }

    def list_followers(self, user_id: str) -> dict[str, Any]:
        """List the users who follow a user.

        Args:
            user_id: The user's id.

        Returns:
            The followers' ids and names.
        """
        self._user(user_id)
        return {
            "user_id": user_id,
            "followers": [
                {"user_id": uid, "name": self.users[uid]["name"]}
                for uid, followed in sorted(self.following.items())
                if user_id in followed
            ],
        }

    # -------------------------------------------------------------- direct messages

    def send_message(self, receiver_id: str, text: str) -> dict[str, Any]:
        """Send a direct message to another user.

        Args:
            receiver_id: The recipient's user id.
            text: The message, at most 1000 characters.

        Returns:
            The new message's id and the recipient.
        """
        me, user = self._other_user(receiver_id)
        if me in self.blocked.get(receiver_id, []):
            raise ToolError(f"{user['name']} does not accept messages from you.", "permission")
        if receiver_id in self.blocked.get(me, []):
            raise ToolError(f"You blocked {user['name']}; they cannot be messaged.", "conflict")
        body = self._text(text, "message")
        message_id = self._new_id("MSG")
        self.messages[message_id] = {
            "sender": me,
            "receiver": receiver_id,
            "text": body,
            "date": self.today,
            "read": False,
        }
        return {
            "message_id": message_id,
            "receiver_id": receiver_id,
            "receiver_name": user["name"],
            "sent": True,
        }

    def view_inbox(self, unread_only: bool = False) -> dict[str, Any]:
        """List the messages you received, newest first.

        Args:
            unread_only: List only messages not read yet.

        Returns:
            Each message's id, sender id and name, text, date and whether it was read.
        """
        me = self._require_login()
        rows = [
            self._summary(mid, m)
            for mid, m in self.messages.items()
            if m["receiver"] == me and (not unread_only or not m["read"])
        ]
        rows.sort(key=lambda r: (r["date"], r["message_id"]), reverse=True)
        return {"messages": rows, "count": len(rows)}

    def read_message(self, message_id: str) -> dict[str, Any]:
        """Open one of your messages; a received message is marked as read.

        Args:
            message_id: The message's id.

        Returns:
            The message with its sender, recipient, text and date.
        """
        me = self._require_login()
        message = self._visible_message(message_id)
        if message["receiver"] == me:
            message["read"] = True
        return self._summary(message_id, message)

    def delete_message(self, message_id: str) -> dict[str, Any]:
        """Delete a message you sent or received.

        Args:
            message_id: The message's id.

        Returns:
            The deleted message's id.
        """
        self._visible_message(message_id)
        del self.messages[message_id]
        return {"message_id": message_id, "deleted": True}

    def search_messages(self, keyword: str) -> dict[str, Any]:
        """Search the messages you sent or received for a word or phrase (case-insensitive).

        Args:
            keyword: The text to look for.

        Returns:
            The matching messages, newest first.
        """
        me = self._require_login()
        needle = keyword.strip().lower()
        if not needle:
            raise ToolError("The keyword is empty.", "invalid")
        rows = [
            self._summary(mid, m)
            for mid, m in self.messages.items()
            if me in (m["sender"], m["receiver"]) and needle in m["text"].lower()
        ]
        rows.sort(key=lambda r: (r["date"], r["message_id"]), reverse=True)
        return {"keyword": keyword, "messages": rows, "count": len(rows)}

    def list_sent_messages(self) -> dict[str, Any]:
        """List the messages you sent, newest first.

        Returns:
            Each message's id, recipient id and name, text, date and whether the recipient read it.
        """
        me = self._require_login()
        rows = [self._summary(mid, m) for mid, m in self.messages.items() if m["sender"] == me]
        rows.sort(key=lambda r: (r["date"], r["message_id"]), reverse=True)
        return {"messages": rows, "count": len(rows)}

    # -------------------------------------------------------------- contacts and blocking

    def add_messaging_contact(self, user_id: str) -> dict[str, Any]:
        """Add a user to your contact list.

        Args:
            user_id: The user's id.

        Returns:
            The added contact's id and name.
        """
        me, user = self._other_user(user_id)
        contacts = self.contacts.setdefault(me, [])
        if user_id in contacts:
            raise ToolError(f"{user['name']} is already a contact.", "conflict")
        if user_id in self.blocked.get(me, []):
            raise ToolError(f"You blocked {user['name']}.", "conflict")
        contacts.append(user_id)
        return {"user_id": user_id, "name": user["name"], "added": True}

    def remove_messaging_contact(self, user_id: str) -> dict[str, Any]:
        """Remove a user from your contact list.

        Args:
            user_id: The contact's user id.

        Returns:
            The removed contact's id.
        """
        me, user = self._other_user(user_id)
        contacts = self.contacts.setdefault(me, [])
        if user_id not in contacts:
            raise ToolError(f"{user['name']} is not in your contacts.", "not_found")
        contacts.remove(user_id)
        return {"user_id": user_id, "removed": True}

    def list_messaging_contacts(self) -> dict[str, Any]:
        """List your contacts.

        Returns:
            Each contact's user id and name.
        """
        me = self._require_login()
        return {
            "contacts": [
                {"user_id": uid, "name": self.users[uid]["name"]} for uid in self.contacts.get(me, [])
            ]
        }

    def block_user(self, user_id: str) -> dict[str, Any]:
        """Block a user: they can no longer message you, and they leave your contacts and follows.

        Args:
            user_id: The user's id.

        Returns:
            The blocked user's id and name.
        """
        me, user = self._other_user(user_id)
        blocked = self.blocked.setdefault(me, [])
        if user_id in blocked:
            raise ToolError(f"{user['name']} is already blocked.", "conflict")
        blocked.append(user_id)
        for relation in (self.contacts, self.following):
            if user_id in relation.get(me, []):
                relation[me].remove(user_id)
        return {"user_id": user_id, "name": user["name"], "blocked": True}

    # -------------------------------------------------------------- follows and posts

    def follow_user(self, user_id: str) -> dict[str, Any]:
        """Follow a user to see their posts in your feed.

        Args:
            user_id: The user's id.

        Returns:
            The followed user's id and name.
        """
        me, user = self._other_user(user_id)
        followed = self.following.setdefault(me, [])
        if user_id in followed:
            raise ToolError(f"You already follow {user['name']}.", "conflict")
        if user_id in self.blocked.get(me, []) or me in self.blocked.get(user_id, []):
            raise ToolError(f"You cannot follow {user['name']}.", "permission")
        followed.append(user_id)
        return {"user_id": user_id, "name": user["name"], "following": True}

    def unfollow_user(self, user_id: str) -> dict[str, Any]:
        """Stop following a user.

        Args:
            user_id: The user's id.

        Returns:
            The unfollowed user's id.
        """
        me, user = self._other_user(user_id)
        followed = self.following.setdefault(me, [])
        if user_id not in followed:
            raise ToolError(f"You do not follow {user['name']}.", "not_found")
        followed.remove(user_id)
        return {"user_id": user_id, "following": False}

    def publish_post(self, text: str) -> dict[str, Any]:
        """Publish a public post.

        Args:
            text: The post, at most 1000 characters.

        Returns:
            The new post's id.
        """
        me = self._require_login()
        body = self._text(text, "post")
        post_id = self._new_id("PST")
        self.posts[post_id] = {"author": me, "text": body, "date": self.today, "likes": [], "comments": []}
        return {"post_id": post_id, "date": self.today}

    def delete_post(self, post_id: str) -> dict[str, Any]:
        """Delete one of your own posts.

        Args:
            post_id: The post's id.

        Returns:
            The deleted post's id.
        """
        me = self._require_login()
        if self._post(post_id)["author"] != me:
            raise ToolError("You can only delete your own posts.", "permission")
        del self.posts[post_id]
        return {"post_id": post_id, "deleted": True}

    def view_post(self, post_id: str) -> dict[str, Any]:
        """Show a post with its likes and comments.

        Args:
            post_id: The post's id.

        Returns:
            Author id and name, text, date, the names of those who liked it and its comments.
        """
        post = self._post(post_id)
        return {
            **self._post_summary(post_id, post),
            "liked_by": [self.users[u]["name"] for u in post["likes"]],
            "comment_list": [
                {
                    "comment_id": c["comment_id"],
                    "author_name": self.users[c["author"]]["name"],
                    "text": c["text"],
                }
                for c in post["comments"]
            ],
        }

    def list_user_posts(self, user_id: str) -> dict[str, Any]:
        """List a user's posts, newest first.

        Args:
            user_id: The author's user id.

        Returns:
            Each post's id, text, date and numbers of likes and comments.
        """
        self._user(user_id)
        rows = [self._post_summary(pid, p) for pid, p in self.posts.items() if p["author"] == user_id]
        rows.sort(key=lambda r: (r["date"], r["post_id"]), reverse=True)
        return {"user_id": user_id, "posts": rows}

    def view_feed(self, limit: int = 10) -> dict[str, Any]:
        """Show the newest posts of the users you follow.

        Args:
            limit: How many posts, from 1 to 50.

        Returns:
            Posts with id, author, text, date and numbers of likes and comments, newest first.
        """
        me = self._require_login()
        if not 1 <= limit <= 50:
            raise ToolError("limit must be between 1 and 50.", "invalid")
        followed = set(self.following.get(me, []))
        rows = [self._post_summary(pid, p) for pid, p in self.posts.items() if p["author"] in followed]
        rows.sort(key=lambda r: (r["date"], r["post_id"]), reverse=True)
        return {"posts": rows[:limit]}

    def comment_on_post(self, post_id: str, text: str) -> dict[str, Any]:
        """Comment on a post.

        Args:
            post_id: The post's id.
            text: The comment, at most 1000 characters.

        Returns:
            The new comment's id and the post's comment count.
        """
        me = self._require_login()
        post = self._post(post_id)
        if me in self.blocked.get(post["author"], []):
            raise ToolError("The author does not accept comments from you.", "permission")
        body = self._text(text, "comment")
        comment_id = self._new_id("CMT")
        post["comments"].append({"comment_id": comment_id, "author": me, "text": body})
        return {"comment_id": comment_id, "post_id": post_id, "comments": len(post["comments"])}

    def like_post(self, post_id: str) -> dict[str, Any]:
        """Like a post.

        Args:
            post_id: The post's id.

        Returns:
            The post's id and its number of likes.
        """
        me = self._require_login()
        post = self._post(post_id)
        if me in post["likes"]:
            raise ToolError("You already like this post.", "conflict")
        post["likes"].append(me)
        return {"post_id": post_id, "likes": len(post["likes"])}
