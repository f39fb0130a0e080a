"""Cases for the games suite (default state: NovaBlade P1001 in EU with 120 credits; nobody signed in)."""

from __future__ import annotations

from tests.suite_cases import Case

LOGIN = ("game_login", {"username": "nova_blade", "password": "Starf4ll!"})
LOGIN_FOX = ("game_login", {"username": "quietfox", "password": "f0xtrot#"})
QUEUE_DUEL = ("game_join_queue", {"game_id": "G01", "mode": "duel"})
START = ("game_start_tictactoe", {})


def _moves(*cells: tuple[int, int]) -> tuple[tuple[str, dict[str, int]], ...]:
    return tuple(("game_make_move", {"row": r, "col": c}) for r, c in cells)


CASES: list[Case] = [
    # account and players
    Case(
        "game_login", {"username": "nova_blade", "password": "Starf4ll!"}, True, expect={"player_id": "P1001"}
    ),
    Case("game_login", {"username": "nova_blade", "password": "starfall"}, False, "tool:permission"),
    Case("game_logout", {}, True, setup=(LOGIN, QUEUE_DUEL), expect={"logged_out": True}),
    Case("game_logout", {}, False, "tool:precondition"),
    Case("game_find_player", {"gamertag": "quietfox"}, True, expect={"player_id": "P1002", "region": "EU"}),
    Case(
        "game_find_player", {"gamertag": "PixelMage"}, True, expect={"player_id": "P1004"}, id="not-a-friend"
    ),
    Case("game_find_player", {"gamertag": "QuietFax"}, False, "tool:not_found", id="typo"),
    Case(
        "game_get_player_profile",
        {"player_id": "P1001"},
        True,
        expect={"gamertag": "NovaBlade", "achievement_points": 50, "friend_count": 3},
    ),
    Case("game_get_player_profile", {"player_id": "P9999"}, False, "tool:not_found"),
    Case(
        "game_list_achievements",
        {"player_id": "P1001", "game_id": "G05"},
        True,
        expect={"unlocked": [], "points": 0},
    ),
    Case("game_list_achievements", {"player_id": "P1003"}, True, expect={"points": 85}, id="all-games"),
    Case("game_list_achievements", {"player_id": "P1001", "game_id": "G42"}, False, "tool:not_found"),
    # friends
    Case("game_list_friends", {}, True, setup=(LOGIN,)),
    Case("game_list_friends", {}, False, "tool:precondition"),
    Case(
        "game_send_friend_request",
        {"player_id": "P1004"},
        True,
        setup=(LOGIN,),
        expect={"request_id": "FR2001", "status": "pending"},
    ),
    Case("game_send_friend_request", {"player_id": "P1004"}, False, "tool:precondition"),
    Case(
        "game_send_friend_request",
        {"player_id": "P1002"},
        False,
        "tool:conflict",
        setup=(LOGIN,),
        id="friends",
    ),
    Case(
        "game_send_friend_request",
        {"player_id": "P1007"},
        False,
        "tool:conflict",
        setup=(LOGIN,),
        id="they-asked-first",
    ),
    Case(
        "game_send_friend_request", {"player_id": "P1001"}, False, "tool:invalid", setup=(LOGIN,), id="self"
    ),
    Case(
        "game_accept_friend_request",
        {"request_id": "FR501"},
        True,
        setup=(LOGIN,),
        expect={"player_id": "P1007", "status": "accepted"},
    ),
    Case("game_accept_friend_request", {"request_id": "FR501"}, False, "tool:precondition"),
    Case(
        "game_accept_friend_request",
        {"request_id": "FR502"},
        False,
        "tool:not_found",
        setup=(LOGIN,),
        id="own-outgoing-request",
    ),
    # store and wallet
    Case("game_list_games", {}, True),
    Case("game_list_games", {"genre": "racing"}, False, "env:unexpected_argument"),
    Case(
        "game_browse_store",
        {"game_id": "G01", "category": "skin"},
        True,
        expect={
            "items": [
                {
                    "item_id": "IT101",
                    "name": "Nebula Blade Skin",
                    "game_id": "G01",
                    "category": "skin",
                    "price": 12.0,
                },
                {
                    "item_id": "IT104",
                    "name": "Crimson Armor Set",
                    "game_id": "G01",
                    "category": "skin",
                    "price": 18.0,
                },
            ]
        },
    ),
    Case("game_browse_store", {"category": "mount"}, False, "tool:invalid"),
    Case("game_browse_store", {"game_id": "G77"}, False, "tool:not_found"),
    Case("game_get_inventory", {}, True, setup=(LOGIN,)),
    Case("game_get_inventory", {}, False, "tool:precondition"),
    Case("game_wallet_balance", {}, True, setup=(LOGIN,), expect={"balance": 120.0}),
    Case("game_wallet_balance", {}, False, "tool:precondition"),
    Case("game_wallet_top_up", {"amount": 50}, True, setup=(LOGIN,), expect={"balance": 170.0}),
    Case("game_wallet_top_up", {"amount": 1000}, False, "tool:invalid", setup=(LOGIN,)),
    Case("game_wallet_top_up", {"amount": 50}, False, "tool:precondition"),
    Case(
        "game_purchase_item",
        {"item_id": "IT103"},
        True,
        setup=(LOGIN,),
        expect={"order_id": "OR2001", "price": 25.0, "balance": 95.0},
    ),
    Case(
        "game_purchase_item",
        {"item_id": "IT111"},
        True,
        setup=(LOGIN, ("game_wallet_top_up", {"amount": 30})),
        expect={"balance": 0.0},
        id="after-top-up",
    ),
    Case("game_purchase_item", {"item_id": "IT103"}, False, "tool:precondition"),
    Case(
        "game_purchase_item", {"item_id": "IT111"}, False, "tool:failed", setup=(LOGIN,), id="too-expensive"
    ),
    Case("game_purchase_item", {"item_id": "IT101"}, False, "tool:conflict", setup=(LOGIN,), id="owned"),
    Case(
        "game_gift_item",
        {"item_id": "IT104", "player_id": "P1002"},
        True,
        setup=(LOGIN,),
        expect={"price": 18.0, "balance": 102.0},
    ),
    Case("game_gift_item", {"item_id": "IT104", "player_id": "P1002"}, False, "tool:precondition"),
    Case(
        "game_gift_item",
        {"item_id": "IT104", "player_id": "P1004"},
        False,
        "tool:permission",
        setup=(LOGIN,),
        id="not-a-friend",
    ),
    Case(
        "game_gift_item",
        {"item_id": "IT102", "player_id": "P1002"},
        False,
        "tool:conflict",
        setup=(LOGIN,),
        id="friend-owns-it",
    ),
    # rankings and matchmaking
    Case(
        "game_get_leaderboard",
        {"game_id": "G03", "region": "EU", "limit": 2},
        True,
        expect={
            "entries": [
                {"rank": 1, "player_id": "P1003", "gamertag": "IronTide", "region": "EU", "rating": 1500},
                {"rank": 2, "player_id": "P1011", "gamertag": "Marrowind", "region": "EU", "rating": 1415},
            ]
        },
    ),
    Case("game_get_leaderboard", {"game_id": "G03", "region": "MOON"}, False, "tool:invalid"),
    Case("game_get_leaderboard", {"game_id": "G09"}, False, "tool:not_found"),
    Case(
        "game_join_queue",
        QUEUE_DUEL[1],
        True,
        setup=(LOGIN,),
        expect={"ticket_id": "QT2001", "players_waiting": 2},
    ),
    Case("game_join_queue", QUEUE_DUEL[1], False, "tool:precondition"),
    Case("game_join_queue", {"game_id": "G01", "mode": "coop"}, False, "tool:invalid", setup=(LOGIN,)),
    Case(
        "game_join_queue",
        QUEUE_DUEL[1],
        False,
        "tool:conflict",
        setup=(LOGIN, QUEUE_DUEL),
        id="already-queued",
    ),
    Case("game_leave_queue", {}, True, setup=(LOGIN, QUEUE_DUEL), expect={"ticket_id": "QT2001"}),
    Case("game_leave_queue", {}, False, "tool:precondition", setup=(LOGIN,)),
    Case(
        "game_find_match",
        {},
        True,
        setup=(LOGIN, ("game_join_queue", {"game_id": "G01", "mode": "squad"})),
        expect={"lobby_id": "LB2002", "mode": "squad"},
    ),
    Case("game_find_match", {}, True, setup=(LOGIN, QUEUE_DUEL), expect={"lobby_id": "LB2002"}, id="duel"),
    Case("game_find_match", {}, False, "tool:precondition", setup=(LOGIN,), id="not-queued"),
    Case(
        "game_find_match",
        {},
        False,
        "tool:failed",
        setup=(LOGIN, ("game_join_queue", {"game_id": "G03", "mode": "grand_prix"})),
        id="lobby-not-full",
    ),
    # tic-tac-toe
    Case(
        "game_start_tictactoe",
        {"difficulty": "hard"},
        True,
        setup=(LOGIN,),
        expect={"match_id": "M2001", "board": ["...", "...", "..."], "bot_move": None},
    ),
    Case("game_start_tictactoe", {}, False, "tool:precondition"),
    Case("game_start_tictactoe", {}, False, "tool:conflict", setup=(LOGIN, START), id="game-in-progress"),
    Case(
        "game_make_move", {"row": 2, "col": 2}, True, setup=(LOGIN, START), expect={"status": "in_progress"}
    ),
    Case(
        "game_make_move",
        {"row": 1, "col": 3},
        True,
        setup=(LOGIN, START, *_moves((1, 1), (1, 2))),
        expect={"board": ["XXX", "O.O", "..."], "status": "won", "achievements_unlocked": ["AC08"]},
        id="win-easy",
    ),
    Case(
        "game_make_move",
        {"row": 2, "col": 1},
        True,
        setup=(
            LOGIN,
            ("game_start_tictactoe", {"difficulty": "hard", "play_first": False}),
            *_moves((1, 1), (3, 2), (1, 3)),
        ),
        expect={"status": "draw", "achievements_unlocked": ["AC09"]},
        id="draw-hard",
    ),
    Case("game_make_move", {"row": 2, "col": 2}, False, "tool:precondition", setup=(LOGIN,), id="no-game"),
    Case("game_make_move", {"row": 4, "col": 1}, False, "tool:invalid", setup=(LOGIN, START)),
    Case(
        "game_make_move",
        {"row": 2, "col": 2},
        False,
        "tool:conflict",
        setup=(LOGIN, START, *_moves((2, 2))),
        id="square-taken",
    ),
    Case(
        "game_make_move",
        {"row": 3, "col": 3},
        False,
        "tool:precondition",
        setup=(LOGIN, START, *_moves((1, 1), (1, 2), (1, 3))),
        id="game-over",
    ),
    Case("game_resign", {}, True, setup=(LOGIN, START), expect={"status": "resigned"}),
    Case("game_resign", {}, False, "tool:precondition", setup=(LOGIN,)),
]
