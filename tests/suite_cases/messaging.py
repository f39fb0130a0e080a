"""Cases for the messaging suite (default state: Alice Chen is USR101; Daniel Weber blocked Tomas Alvarez)."""

from __future__ import annotations

from tests.suite_cases import Case

ALICE = ("messaging_login", {"user_id": "USR101", "password": "sunflower7"})
TOMAS = ("messaging_login", {"user_id": "USR104", "password": "ridge4410"})
DANIEL = ("messaging_login", {"user_id": "USR106", "password": "kestrel9"})
NO_SESSION = "tool:precondition"

CASES: list[Case] = [
    # session and people
    Case(
        "messaging_login",
        {"user_id": "USR101", "password": "sunflower7"},
        True,
        expect={"name": "Alice Chen", "unread_messages": 3},
    ),
    Case(
        "messaging_login",
        {"user_id": "alice_c", "password": "sunflower7"},
        False,
        "tool:permission",
        id="username-is-not-id",
    ),
    Case("messaging_logout", {}, True, setup=(ALICE,), expect={"logged_out": True}),
    Case("messaging_logout", {}, False, NO_SESSION),
    Case(
        "lookup_user_id", {"name": "grace okafor"}, True, expect={"user_id": "USR105", "name": "Grace Okafor"}
    ),
    Case("lookup_user_id", {"name": "Alice Chen"}, True, expect={"user_id": "USR101"}),
    Case("lookup_user_id", {"name": "Hiroshi Tanaka"}, True, expect={"user_id": "USR109"}),
    Case("lookup_user_id", {"name": "Tomas Alvarez"}, True, expect={"user_id": "USR104"}),
    Case("lookup_user_id", {"name": "Grace"}, False, "tool:not_found"),
    Case("lookup_user_id", {"name": 105}, False, "env:wrong_type"),
    Case(
        "view_user_profile",
        {"user_id": "USR105"},
        True,
        expect={"name": "Grace Okafor", "followers": 2, "following": 0, "posts": 1},
    ),
    Case("view_user_profile", {"user_id": "Grace Okafor"}, False, "tool:not_found"),
    Case(
        "list_followers",
        {"user_id": "USR104"},
        True,
        expect={
            "followers": [
                {"user_id": "USR102", "name": "Marcus Lee"},
                {"user_id": "USR107", "name": "Anna Weber"},
            ]
        },
    ),
    Case("list_followers", {"user_id": "USR999"}, False, "tool:not_found"),
    # direct messages
    Case(
        "send_message",
        {"receiver_id": "USR105", "text": "Summary attached."},
        True,
        setup=(ALICE,),
        expect={"message_id": "MSG9001", "receiver_name": "Grace Okafor"},
    ),
    Case("send_message", {"receiver_id": "USR105", "text": "hi"}, False, NO_SESSION),
    Case(
        "send_message",
        {"receiver_id": "USR106", "text": "hi"},
        False,
        "tool:permission",
        setup=(TOMAS,),
        id="blocked-by-receiver",
    ),
    Case(
        "send_message",
        {"receiver_id": "USR104", "text": "hi"},
        False,
        "tool:conflict",
        setup=(DANIEL,),
        id="receiver-blocked",
    ),
    Case(
        "send_message",
        {"receiver_id": "USR101", "text": "note to self"},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="self",
    ),
    Case(
        "send_message",
        {"receiver_id": "USR105", "text": "   "},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="empty",
    ),
    Case(
        "send_message",
        {"receiver_id": "USR105", "text": "x" * 1001},
        False,
        "tool:invalid",
        setup=(ALICE,),
        id="too-long",
    ),
    Case("view_inbox", {"unread_only": True}, True, setup=(ALICE,), expect={"count": 3}),
    Case("view_inbox", {}, False, NO_SESSION),
    Case(
        "read_message",
        {"message_id": "MSG3003"},
        True,
        setup=(ALICE,),
        expect={"sender_name": "Grace Okafor", "read": True},
    ),
    Case("read_message", {"message_id": "MSG3008"}, False, "tool:not_found", setup=(ALICE,), id="not-yours"),
    Case("delete_message", {"message_id": "MSG3001"}, True, setup=(ALICE,), expect={"deleted": True}),
    Case(
        "delete_message",
        {"message_id": "MSG3001"},
        False,
        "tool:not_found",
        id="twice",
        setup=(ALICE, ("delete_message", {"message_id": "MSG3001"})),
    ),
    Case("search_messages", {"keyword": "SENSOR"}, True, setup=(ALICE,), expect={"count": 1}),
    Case("search_messages", {"keyword": " "}, False, "tool:invalid", setup=(ALICE,)),
    Case("list_sent_messages", {}, True, setup=(ALICE,), expect={"count": 2}),
    Case("list_sent_messages", {}, False, NO_SESSION),
    # contacts and blocking
    Case(
        "add_messaging_contact",
        {"user_id": "USR109"},
        True,
        setup=(ALICE,),
        expect={"name": "Hiroshi Tanaka"},
    ),
    Case("add_messaging_contact", {"user_id": "USR102"}, False, "tool:conflict", setup=(ALICE,)),
    Case(
        "add_messaging_contact", {"user_id": "USR104"}, False, "tool:conflict", setup=(DANIEL,), id="blocked"
    ),
    Case("remove_messaging_contact", {"user_id": "USR102"}, True, setup=(ALICE,), expect={"removed": True}),
    Case("remove_messaging_contact", {"user_id": "USR109"}, False, "tool:not_found", setup=(ALICE,)),
    Case(
        "list_messaging_contacts",
        {},
        True,
        setup=(ALICE,),
        expect={
            "contacts": [
                {"user_id": "USR102", "name": "Marcus Lee"},
                {"user_id": "USR105", "name": "Grace Okafor"},
            ]
        },
    ),
    Case("list_messaging_contacts", {}, False, NO_SESSION),
    Case("block_user", {"user_id": "USR105"}, True, setup=(ALICE,), expect={"blocked": True}),
    Case("block_user", {"user_id": "USR104"}, False, "tool:conflict", setup=(DANIEL,)),
    # follows and posts
    Case("follow_user", {"user_id": "USR104"}, True, setup=(ALICE,), expect={"following": True}),
    Case("follow_user", {"user_id": "USR105"}, False, "tool:conflict", setup=(ALICE,)),
    Case("follow_user", {"user_id": "USR106"}, False, "tool:permission", setup=(TOMAS,), id="blocked"),
    Case("unfollow_user", {"user_id": "USR109"}, True, setup=(ALICE,), expect={"following": False}),
    Case("unfollow_user", {"user_id": "USR104"}, False, "tool:not_found", setup=(ALICE,)),
    Case(
        "publish_post",
        {"text": "Trail run on Saturday, who is in?"},
        True,
        setup=(ALICE,),
        expect={"post_id": "PST9001", "date": "2026-03-02"},
    ),
    Case("publish_post", {"text": ""}, False, "tool:invalid", setup=(ALICE,)),
    Case("publish_post", {"text": "hello"}, False, NO_SESSION),
    Case("delete_post", {"post_id": "PST501"}, True, setup=(ALICE,), expect={"deleted": True}),
    Case("delete_post", {"post_id": "PST502"}, False, "tool:permission", setup=(ALICE,)),
    Case(
        "view_post",
        {"post_id": "PST505"},
        True,
        expect={
            "author_name": "Tomas Alvarez",
            "liked_by": ["Marcus Lee", "Anna Weber"],
            "comment_list": [{"comment_id": "CMT603", "author_name": "Anna Weber", "text": "Stunning shot."}],
        },
    ),
    Case("view_post", {"post_id": "PST999"}, False, "tool:not_found"),
    Case(
        "list_user_posts",
        {"user_id": "USR101"},
        True,
        expect={
            "posts": [
                {
                    "post_id": "PST501",
                    "author_id": "USR101",
                    "author_name": "Alice Chen",
                    "text": "New personal best on the Rivermist ridge trail: 10k in 52 minutes!",
                    "date": "2026-02-22",
                    "likes": 2,
                    "comments": 1,
                }
            ]
        },
    ),
    Case("list_user_posts", {"user_id": "USR000"}, False, "tool:not_found"),
    Case(
        "view_feed",
        {"limit": 1},
        True,
        setup=(ALICE,),
        expect={
            "posts": [
                {
                    "post_id": "PST504",
                    "author_id": "USR109",
                    "author_name": "Hiroshi Tanaka",
                    "text": "Paper accepted: warehouse robots that learn from failures.",
                    "date": "2026-02-27",
                    "likes": 0,
                    "comments": 0,
                }
            ]
        },
    ),
    Case("view_feed", {"limit": 0}, False, "tool:invalid", setup=(ALICE,)),
    Case(
        "comment_on_post",
        {"post_id": "PST502", "text": "Congrats Grace!"},
        True,
        setup=(ALICE,),
        expect={"comment_id": "CMT9001", "comments": 1},
    ),
    Case("comment_on_post", {"post_id": "PST502", "text": "Congrats!"}, False, NO_SESSION),
    Case("like_post", {"post_id": "PST504"}, True, setup=(ALICE,), expect={"likes": 1}),
    Case("like_post", {"post_id": "PST502"}, False, "tool:conflict", setup=(ALICE,), id="already-liked"),
]
