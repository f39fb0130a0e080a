"""Games platform: players, friends, a store with a wallet, achievements, matchmaking and tic-tac-toe.

Structure that makes data hard: a gamertag only leads to a player id through a lookup; a game's title only
leads to its game id through the catalogue; matchmaking needs a queue ticket first (join, then find a
match); purchases spend the wallet balance (top up first when it is short); gifts only go to friends;
the tic-tac-toe board accepts moves only after a game was started.
"""

from __future__ import annotations

import difflib
from functools import cache
from typing import Any, Literal

from hardgen.environment.base import Dependency, Suite, ToolError
from hardgen.environment.registry import register_suite

Difficulty = Literal["easy", "hard"]
PaymentMethod = Literal["card_on_file", "paypal"]

_TICTACTOE = "G05"
_MATCH_WINDOW = 250  # rating difference allowed between players of one lobby
_DEFAULT_RATING = 1200
_LINES = (
    ((0, 0), (0, 1), (0, 2)),
    ((1, 0), (1, 1), (1, 2)),
    ((2, 0), (2, 1), (2, 2)),
    ((0, 0), (1, 0), (2, 0)),
    ((0, 1), (1, 1), (2, 1)),
    ((0, 2), (1, 2), (2, 2)),
    ((0, 0), (1, 1), (2, 2)),
    ((0, 2), (1, 1), (2, 0)),
)
_RESULT_ACHIEVEMENTS = {("won", "easy"): "AC08", ("won", "hard"): "AC10", ("draw", "hard"): "AC09"}
_RATING_CHANGE = {"won": 15, "draw": 0, "lost": -10, "resigned": -10}


def _d(before: str, after: str, output: str, parameter: str) -> Dependency:
    return Dependency(before, after, "value", output, parameter)


_NEEDS_LOGIN = (
    "game_logout",
    "game_list_friends",
    "game_send_friend_request",
    "game_accept_friend_request",
    "game_get_inventory",
    "game_purchase_item",
    "game_wallet_balance",
    "game_wallet_top_up",
    "game_gift_item",
    "game_join_queue",
    "game_leave_queue",
    "game_find_match",
    "game_start_tictactoe",
    "game_make_move",
    "game_resign",
)


@register_suite
class GamesSuite(Suite):
    name = "games"
    domain = "game"
    description = (
        "A game platform: find players, make friends, buy items, queue for matches, play tic-tac-toe."
    )
    dependencies = (
        *(Dependency("game_login", t, "prerequisite") for t in _NEEDS_LOGIN),
        Dependency("game_join_queue", "game_find_match", "prerequisite"),
        Dependency("game_join_queue", "game_leave_queue", "prerequisite"),
        Dependency("game_start_tictactoe", "game_make_move", "prerequisite"),
        Dependency("game_start_tictactoe", "game_resign", "prerequisite"),
        _d("game_login", "game_get_player_profile", "player_id", "player_id"),
        _d("game_login", "game_list_achievements", "player_id", "player_id"),
        *(
            _d("game_find_player", t, "player_id", "player_id")
            for t in (
                "game_get_player_profile",
                "game_send_friend_request",
                "game_gift_item",
                "game_list_achievements",
            )
        ),
        _d("game_list_friends", "game_gift_item", "friends[].player_id", "player_id"),
        _d("game_list_friends", "game_get_player_profile", "friends[].player_id", "player_id"),
        _d("game_list_friends", "game_accept_friend_request", "pending_requests[].request_id", "request_id"),
        _d("game_browse_store", "game_purchase_item", "items[].item_id", "item_id"),
        _d("game_browse_store", "game_gift_item", "items[].item_id", "item_id"),
        *(
            _d("game_list_games", t, "games[].game_id", "game_id")
            for t in (
                "game_join_queue",
                "game_get_leaderboard",
                "game_browse_store",
                "game_list_achievements",
            )
        ),
        _d("game_get_leaderboard", "game_get_player_profile", "entries[].player_id", "player_id"),
        _d("game_get_leaderboard", "game_send_friend_request", "entries[].player_id", "player_id"),
        _d("game_find_match", "game_send_friend_request", "members[].player_id", "player_id"),
        _d("game_find_match", "game_get_player_profile", "members[].player_id", "player_id"),
    )

    # State (public attributes, set from data/games.json).
    now: str
    accounts: dict[str, dict[str, str]]
    session_player: str | None
    games: dict[str, dict[str, Any]]  # modes: {mode: players per lobby}
    players: dict[str, dict[str, Any]]
    store_items: dict[str, dict[str, Any]]
    achievements: dict[str, dict[str, Any]]
    friend_requests: dict[str, dict[str, Any]]
    queue_tickets: dict[str, dict[str, Any]]
    lobbies: dict[str, dict[str, Any]]
    matches: dict[str, dict[str, Any]]  # tic-tac-toe games
    orders: dict[str, dict[str, Any]]
    next_id: int

    # -------------------------------------------------------------- helpers (private: not tools)

    def _require_login(self) -> str:
        if not self.session_player:
            raise ToolError("Not signed in: log in with game_login first.", "precondition")
        return self.session_player

    def _new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def _player(self, player_id: str) -> dict[str, Any]:
        if player_id not in self.players:
            raise ToolError(f"No player with id {player_id!r}.", "not_found")
        return self.players[player_id]

    def _game(self, game_id: str) -> dict[str, Any]:
        if game_id not in self.games:
            raise ToolError(f"No game with id {game_id!r}; game_list_games shows the catalogue.", "not_found")
        return self.games[game_id]

    def _item(self, item_id: str) -> dict[str, Any]:
        if item_id not in self.store_items:
            raise ToolError(f"No store item with id {item_id!r}.", "not_found")
        return self.store_items[item_id]

    def _searching_ticket(self, player_id: str) -> str | None:
        for tid, ticket in self.queue_tickets.items():
            if ticket["player_id"] == player_id and ticket["status"] == "searching":
                return tid
        return None

    def _active_match(self, player_id: str) -> str | None:
        for mid, match in self.matches.items():
            if match["player_id"] == player_id and match["status"] == "in_progress":
                return mid
        return None

    def _require_match(self) -> tuple[str, str, dict[str, Any]]:
        me = self._require_login()
        match_id = self._active_match(me)
        if match_id is None:
            raise ToolError(
                "No tic-tac-toe game in progress: start one with game_start_tictactoe.", "precondition"
            )
        return me, match_id, self.matches[match_id]

    def _charge(self, player: dict[str, Any], price: float) -> None:
        if player["wallet"] < price:
            raise ToolError(
                f"Not enough credits: the price is {price:.2f}, the wallet holds {player['wallet']:.2f}. "
                "Top up the wallet first.",
                "failed",
            )
        player["wallet"] = round(player["wallet"] - price, 2)

    def _bot_move(self, board: list[list[str]], difficulty: str) -> tuple[int, int]:
        empty = [(r, c) for r in range(3) for c in range(3) if board[r][c] == "."]
        if difficulty == "hard":
            scored = [(_minimax(_key(_play(board, cell, "O")), "X"), cell) for cell in empty]
            best = max(score for score, _ in scored)
            candidates = [cell for score, cell in scored if score == best]
        else:
            winning = [cell for cell in empty if _winner(_play(board, cell, "O")) == "O"]
            candidates = winning or empty
        return self.rng.choice(candidates)

    def _finish(self, me: str, match: dict[str, Any], status: str) -> list[str]:
        """Record a finished tic-tac-toe game: rating change and achievements unlocked."""
        match["status"] = status
        player = self.players[me]
        ratings = player["ratings"]
        ratings[_TICTACTOE] = ratings.get(_TICTACTOE, _DEFAULT_RATING) + _RATING_CHANGE[status]
        unlocked = []
        achievement = _RESULT_ACHIEVEMENTS.get((status, match["difficulty"]))
        if achievement and achievement not in player["achievements"]:
            player["achievements"].append(achievement)
            unlocked.append(achievement)
        return unlocked

    @staticmethod
    def _board_view(board: list[list[str]]) -> list[str]:
        return ["".join(row) for row in board]

    # -------------------------------------------------------------- account and players

    def game_login(self, username: str, password: str) -> dict[str, Any]:
        """Sign in to the game platform.

        Args:
            username: The account's username.
            password: The account's password.

        Returns:
            The signed-in player's id and gamertag.
        """
        account = self.accounts.get(username)
        if account is None or account["password"] != password:
            raise ToolError("Wrong username or password.", "permission")
        self.session_player = account["player_id"]
        return {"player_id": account["player_id"], "gamertag": self.players[account["player_id"]]["gamertag"]}

    def game_logout(self) -> dict[str, Any]:
        """Sign out of the game platform; any matchmaking ticket is withdrawn.

        Returns:
            Whether the player was signed out.
        """
        me = self._require_login()
        ticket = self._searching_ticket(me)
        if ticket is not None:
            self.queue_tickets[ticket]["status"] = "cancelled"
        self.session_player = None
        return {"logged_out": True}

    def game_find_player(self, gamertag: str) -> dict[str, Any]:
        """Find a player by gamertag (case-insensitive).

        Args:
            gamertag: The player's gamertag, e.g. "QuietFox".

        Returns:
            The player's id, gamertag, level, region and online status.
        """
        wanted = gamertag.strip().lower()
        for pid, p in self.players.items():
            if p["gamertag"].lower() == wanted:
                return {
                    "player_id": pid,
                    "gamertag": p["gamertag"],
                    "level": p["level"],
                    "region": p["region"],
                    "status": p["status"],
                }
        tags = [p["gamertag"] for p in self.players.values()]
        close = difflib.get_close_matches(gamertag.strip(), tags, n=3, cutoff=0.6)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ToolError(f"No player with gamertag {gamertag!r}.{hint}", "not_found")

    def game_get_player_profile(self, player_id: str) -> dict[str, Any]:
        """Show a player's public profile.

        Args:
            player_id: The player's id.

        Returns:
            Gamertag, level, region, status, rating per game id, achievement points and friend count.
        """
        p = self._player(player_id)
        points = sum(self.achievements[a]["points"] for a in p["achievements"])
        return {
            "player_id": player_id,
            "gamertag": p["gamertag"],
            "level": p["level"],
            "region": p["region"],
            "status": p["status"],
            "ratings": dict(p["ratings"]),
            "achievement_points": points,
            "friend_count": len(p["friends"]),
        }

    def game_list_achievements(self, player_id: str, game_id: str | None = None) -> dict[str, Any]:
        """List the achievements a player has unlocked and those still locked.

        Args:
            player_id: The player's id.
            game_id: Only achievements of this game.

        Returns:
            Unlocked and locked achievements (id, game id, name, points) and the unlocked points total.
        """
        p = self._player(player_id)
        if game_id is not None:
            self._game(game_id)
        unlocked: list[dict[str, Any]] = []
        locked: list[dict[str, Any]] = []
        for aid, a in sorted(self.achievements.items()):
            if game_id is not None and a["game_id"] != game_id:
                continue
            row = {"achievement_id": aid, "game_id": a["game_id"], "name": a["name"], "points": a["points"]}
            (unlocked if aid in p["achievements"] else locked).append(row)
        return {
            "player_id": player_id,
            "unlocked": unlocked,
            "locked": locked,
            "points": sum(a["points"] for a in unlocked),
        }

    # -------------------------------------------------------------- friends

    def game_list_friends(self) -> dict[str, Any]:
        """List the signed-in player's friends and the friend requests waiting for an answer.

        Returns:
            Friends (id, gamertag, status), incoming pending requests and outgoing pending requests.
        """
        me = self._require_login()
        friends = [
            {"player_id": f, "gamertag": self.players[f]["gamertag"], "status": self.players[f]["status"]}
            for f in self.players[me]["friends"]
        ]
        incoming, outgoing = [], []
        for rid, req in sorted(self.friend_requests.items()):
            if req["status"] != "pending":
                continue
            if req["to"] == me:
                incoming.append(
                    {
                        "request_id": rid,
                        "from_player_id": req["from"],
                        "gamertag": self.players[req["from"]]["gamertag"],
                    }
                )
            elif req["from"] == me:
                outgoing.append(
                    {
                        "request_id": rid,
                        "to_player_id": req["to"],
                        "gamertag": self.players[req["to"]]["gamertag"],
                    }
                )
        return {"friends": friends, "pending_requests": incoming, "sent_requests": outgoing}

    def game_send_friend_request(self, player_id: str) -> dict[str, Any]:
        """Send a friend request to another player.

        Args:
            player_id: The player's id.

        Returns:
            The request's id and its status.
        """
        me = self._require_login()
        other = self._player(player_id)
        if player_id == me:
            raise ToolError("You cannot befriend yourself.", "invalid")
        if player_id in self.players[me]["friends"]:
            raise ToolError(f"{other['gamertag']} is already your friend.", "conflict")
        for rid, req in self.friend_requests.items():
            if req["status"] == "pending" and {req["from"], req["to"]} == {me, player_id}:
                what = (
                    "has already asked you: accept request" if req["to"] == me else "already has your request"
                )
                raise ToolError(f"{other['gamertag']} {what} {rid}.", "conflict")
        request_id = self._new_id("FR")
        self.friend_requests[request_id] = {"from": me, "to": player_id, "status": "pending"}
        return {"request_id": request_id, "status": "pending"}

    def game_accept_friend_request(self, request_id: str) -> dict[str, Any]:
        """Accept a friend request sent to the signed-in player.

        Args:
            request_id: The request's id.

        Returns:
            The new friend's player id and gamertag.
        """
        me = self._require_login()
        req = self.friend_requests.get(request_id)
        if req is None or req["to"] != me:
            raise ToolError(f"You have no friend request {request_id!r}.", "not_found")
        if req["status"] != "pending":
            raise ToolError(f"Request {request_id} is already {req['status']}.", "conflict")
        req["status"] = "accepted"
        friend = req["from"]
        for a, b in ((me, friend), (friend, me)):
            if b not in self.players[a]["friends"]:
                self.players[a]["friends"].append(b)
        return {"player_id": friend, "gamertag": self.players[friend]["gamertag"], "status": "accepted"}

    # -------------------------------------------------------------- store and wallet

    def game_list_games(self) -> dict[str, Any]:
        """List the games on the platform.

        Returns:
            Each game's id, title, genre and matchmaking modes with their lobby sizes.
        """
        return {
            "games": [
                {"game_id": gid, "title": g["title"], "genre": g["genre"], "modes": dict(g["modes"])}
                for gid, g in sorted(self.games.items())
            ]
        }

    def game_browse_store(
        self, game_id: str | None = None, category: str | None = None, max_price: float | None = None
    ) -> dict[str, Any]:
        """Browse the store's items, cheapest first.

        Args:
            game_id: Only items for this game.
            category: Only items of this category (skin, emote, season_pass, dlc, booster, bundle).
            max_price: Only items costing at most this many credits.

        Returns:
            Items with their id, name, game id, category and price in credits.
        """
        if game_id is not None:
            self._game(game_id)
        categories = {i["category"] for i in self.store_items.values()}
        if category is not None and category not in categories:
            raise ToolError(
                f"Unknown category {category!r}; categories: {', '.join(sorted(categories))}.", "invalid"
            )
        if max_price is not None and max_price < 0:
            raise ToolError("max_price cannot be negative.", "invalid")
        items = [
            {"item_id": iid, **item}
            for iid, item in self.store_items.items()
            if (game_id is None or item["game_id"] == game_id)
            and (category is None or item["category"] == category)
            and (max_price is None or item["price"] <= max_price)
        ]
        items.sort(key=lambda i: (i["price"], i["item_id"]))
        return {"items": items, "currency": "credits"}

    def game_get_inventory(self) -> dict[str, Any]:
        """List the items the signed-in player owns.

        Returns:
            Owned items with their id, name, game id and category.
        """
        me = self._require_login()
        items = [
            {"item_id": iid, **{k: v for k, v in self.store_items[iid].items() if k != "price"}}
            for iid in self.players[me]["inventory"]
        ]
        return {"items": items}

    def game_wallet_balance(self) -> dict[str, Any]:
        """Show the signed-in player's wallet balance.

        Returns:
            The balance in credits.
        """
        me = self._require_login()
        return {"balance": self.players[me]["wallet"], "currency": "credits"}

    def game_wallet_top_up(
        self, amount: float, payment_method: PaymentMethod = "card_on_file"
    ) -> dict[str, Any]:
        """Add credits to the signed-in player's wallet.

        Args:
            amount: Credits to add, from 5 to 500.
            payment_method: How to pay for them.

        Returns:
            The new balance.
        """
        me = self._require_login()
        if not 5 <= amount <= 500:
            raise ToolError("A top-up is between 5 and 500 credits.", "invalid")
        player = self.players[me]
        player["wallet"] = round(player["wallet"] + amount, 2)
        return {"balance": player["wallet"], "added": amount, "payment_method": payment_method}

    def game_purchase_item(self, item_id: str) -> dict[str, Any]:
        """Buy a store item for the signed-in player with wallet credits.

        Args:
            item_id: The item's id.

        Returns:
            The order id, the price paid and the remaining balance.
        """
        me = self._require_login()
        item = self._item(item_id)
        player = self.players[me]
        if item_id in player["inventory"]:
            raise ToolError(f"You already own {item['name']}.", "conflict")
        self._charge(player, item["price"])
        player["inventory"].append(item_id)
        order_id = self._new_id("OR")
        self.orders[order_id] = {
            "player_id": me,
            "item_id": item_id,
            "recipient_id": me,
            "price": item["price"],
        }
        return {"order_id": order_id, "item_id": item_id, "price": item["price"], "balance": player["wallet"]}

    def game_gift_item(self, item_id: str, player_id: str) -> dict[str, Any]:
        """Buy a store item as a gift for a friend, paid from the signed-in player's wallet.

        Args:
            item_id: The item's id.
            player_id: The friend's player id.

        Returns:
            The order id, the price paid and the remaining balance.
        """
        me = self._require_login()
        item = self._item(item_id)
        friend = self._player(player_id)
        if player_id not in self.players[me]["friends"]:
            raise ToolError(
                f"Gifts can only be sent to friends; {friend['gamertag']} is not one.", "permission"
            )
        if item_id in friend["inventory"]:
            raise ToolError(f"{friend['gamertag']} already owns {item['name']}.", "conflict")
        player = self.players[me]
        self._charge(player, item["price"])
        friend["inventory"].append(item_id)
        order_id = self._new_id("OR")
        self.orders[order_id] = {
            "player_id": me,
            "item_id": item_id,
            "recipient_id": player_id,
            "price": item["price"],
        }
        return {"order_id": order_id, "item_id": item_id, "price": item["price"], "balance": player["wallet"]}

    # -------------------------------------------------------------- rankings and matchmaking

    def game_get_leaderboard(
        self, game_id: str, region: str | None = None, limit: int = 10
    ) -> dict[str, Any]:
        """The best-rated players of a game.

        Args:
            game_id: The game's id.
            region: Only players of this region (EU, NA, ASIA).
            limit: How many entries (1 to 50).

        Returns:
            Entries with rank, player id, gamertag, region and rating.
        """
        self._game(game_id)
        if not 1 <= limit <= 50:
            raise ToolError("limit must be between 1 and 50.", "invalid")
        regions = {p["region"] for p in self.players.values()}
        if region is not None and region not in regions:
            raise ToolError(f"Unknown region {region!r}; regions: {', '.join(sorted(regions))}.", "invalid")
        ranked = sorted(
            (
                (p["ratings"][game_id], pid)
                for pid, p in self.players.items()
                if game_id in p["ratings"] and (region is None or p["region"] == region)
            ),
            key=lambda x: (-x[0], x[1]),
        )[:limit]
        entries = [
            {
                "rank": i + 1,
                "player_id": pid,
                "gamertag": self.players[pid]["gamertag"],
                "region": self.players[pid]["region"],
                "rating": rating,
            }
            for i, (rating, pid) in enumerate(ranked)
        ]
        return {"game_id": game_id, "entries": entries}

    def game_join_queue(self, game_id: str, mode: str) -> dict[str, Any]:
        """Join the matchmaking queue of a game mode in the signed-in player's region.

        Args:
            game_id: The game's id.
            mode: The game mode, as listed for the game (e.g. "duel", "squad").

        Returns:
            The queue ticket id, the lobby size and how many players are already waiting.
        """
        me = self._require_login()
        game = self._game(game_id)
        if mode not in game["modes"] or game_id == _TICTACTOE:
            modes = ", ".join(sorted(game["modes"]))
            raise ToolError(
                f"{game['title']} has no online matchmaking mode {mode!r}; modes: {modes}.", "invalid"
            )
        existing = self._searching_ticket(me)
        if existing is not None:
            raise ToolError(
                f"You are already queued (ticket {existing}); leave that queue first.", "conflict"
            )
        region = self.players[me]["region"]
        waiting = sum(
            1
            for t in self.queue_tickets.values()
            if t["status"] == "searching"
            and (t["game_id"], t["mode"], t["region"]) == (game_id, mode, region)
        )
        ticket_id = self._new_id("QT")
        self.queue_tickets[ticket_id] = {
            "player_id": me,
            "game_id": game_id,
            "mode": mode,
            "region": region,
            "status": "searching",
            "lobby_id": None,
        }
        return {"ticket_id": ticket_id, "lobby_size": game["modes"][mode], "players_waiting": waiting}

    def game_leave_queue(self) -> dict[str, Any]:
        """Leave the matchmaking queue.

        Returns:
            The withdrawn ticket's id.
        """
        me = self._require_login()
        ticket = self._searching_ticket(me)
        if ticket is None:
            raise ToolError("You are not in a matchmaking queue.", "precondition")
        self.queue_tickets[ticket]["status"] = "cancelled"
        return {"ticket_id": ticket, "status": "cancelled"}

    def game_find_match(self) -> dict[str, Any]:
        """Form a lobby from the queue: players of the same game, mode and region with close ratings.

        Returns:
            The lobby's id, game id, mode and members (player id, gamertag, rating).
        """
        me = self._require_login()
        ticket_id = self._searching_ticket(me)
        if ticket_id is None:
            raise ToolError(
                "Join a matchmaking queue with game_join_queue before finding a match.", "precondition"
            )
        ticket = self.queue_tickets[ticket_id]
        game_id, mode = ticket["game_id"], ticket["mode"]
        size = self.games[game_id]["modes"][mode]
        mine = self.players[me]["ratings"].get(game_id, _DEFAULT_RATING)
        candidates = sorted(
            tid
            for tid, t in self.queue_tickets.items()
            if tid != ticket_id
            and t["status"] == "searching"
            and (t["game_id"], t["mode"], t["region"]) == (game_id, mode, ticket["region"])
            and abs(self.players[t["player_id"]]["ratings"].get(game_id, _DEFAULT_RATING) - mine)
            <= _MATCH_WINDOW
        )
        if len(candidates) < size - 1:
            raise ToolError(
                f"Not enough players near your rating yet ({len(candidates) + 1} of {size}); try later.",
                "failed",
            )
        chosen = [ticket_id, *sorted(self.rng.sample(candidates, size - 1))]
        lobby_id = self._new_id("LB")
        members = []
        for tid in chosen:
            t = self.queue_tickets[tid]
            t["status"], t["lobby_id"] = "matched", lobby_id
            p = self.players[t["player_id"]]
            members.append(
                {
                    "player_id": t["player_id"],
                    "gamertag": p["gamertag"],
                    "rating": p["ratings"].get(game_id, _DEFAULT_RATING),
                }
            )
        self.lobbies[lobby_id] = {
            "game_id": game_id,
            "mode": mode,
            "members": [m["player_id"] for m in members],
        }
        return {"lobby_id": lobby_id, "game_id": game_id, "mode": mode, "members": members}

    # -------------------------------------------------------------- tic-tac-toe

    def game_start_tictactoe(
        self, difficulty: Difficulty = "easy", play_first: bool = True
    ) -> dict[str, Any]:
        """Start a game of tic-tac-toe against the bot; the player is X, the bot is O.

        Args:
            difficulty: "easy" plays at random unless it can win at once; "hard" never loses.
            play_first: Whether the player moves first; otherwise the bot opens.

        Returns:
            The match id, the board (three rows of "X", "O" or "." from the top) and the bot's opening move.
        """
        me = self._require_login()
        if self._active_match(me) is not None:
            raise ToolError(
                "A tic-tac-toe game is already in progress; finish or resign it first.", "conflict"
            )
        board = [["."] * 3 for _ in range(3)]
        bot_move = None
        if not play_first:
            r, c = self._bot_move(board, difficulty)
            board[r][c] = "O"
            bot_move = {"row": r + 1, "col": c + 1}
        match_id = self._new_id("M")
        self.matches[match_id] = {
            "player_id": me,
            "difficulty": difficulty,
            "board": self._board_view(board),
            "status": "in_progress",
        }
        return {
            "match_id": match_id,
            "board": self._board_view(board),
            "bot_move": bot_move,
            "status": "in_progress",
        }

    def game_make_move(self, row: int, col: int) -> dict[str, Any]:
        """Place an X in the tic-tac-toe game in progress; the bot answers at once.

        Args:
            row: Row from 1 (top) to 3 (bottom).
            col: Column from 1 (left) to 3 (right).

        Returns:
            Board after both moves, the bot's move, status (in_progress, won, lost or draw), new achievements.
        """
        me, match_id, match = self._require_match()
        if not (1 <= row <= 3 and 1 <= col <= 3):
            raise ToolError("row and col are between 1 and 3.", "invalid")
        board = [list(line) for line in match["board"]]
        if board[row - 1][col - 1] != ".":
            raise ToolError(f"Square ({row}, {col}) is already taken.", "conflict")
        board[row - 1][col - 1] = "X"
        bot_move = None
        status = _status(board)
        if status == "in_progress":
            r, c = self._bot_move(board, match["difficulty"])
            board[r][c] = "O"
            bot_move = {"row": r + 1, "col": c + 1}
            status = _status(board)
        match["board"] = self._board_view(board)
        unlocked = self._finish(me, match, status) if status != "in_progress" else []
        return {
            "match_id": match_id,
            "board": match["board"],
            "bot_move": bot_move,
            "status": status,
            "achievements_unlocked": unlocked,
        }

    def game_resign(self) -> dict[str, Any]:
        """Give up the tic-tac-toe game in progress (it counts as a loss).

        Returns:
            The match id and its final status.
        """
        me, match_id, match = self._require_match()
        self._finish(me, match, "resigned")
        return {"match_id": match_id, "status": "resigned"}


# ---------------------------------------------------------------------------------------- tic-tac-toe


def _play(board: list[list[str]], cell: tuple[int, int], mark: str) -> list[list[str]]:
    copy = [list(row) for row in board]
    copy[cell[0]][cell[1]] = mark
    return copy


def _key(board: list[list[str]]) -> str:
    return "".join("".join(row) for row in board)


def _winner(board: list[list[str]] | str) -> str | None:
    cells = board if isinstance(board, str) else _key(board)
    for line in _LINES:
        marks = {cells[r * 3 + c] for r, c in line}
        if len(marks) == 1 and "." not in marks:
            return marks.pop()
    return None


def _status(board: list[list[str]]) -> str:
    winner = _winner(board)
    if winner == "X":
        return "won"
    if winner == "O":
        return "lost"
    return "draw" if all(cell != "." for row in board for cell in row) else "in_progress"


@cache
def _minimax(cells: str, to_move: str) -> int:
    """Game value for the bot (O): 1 win, 0 draw, -1 loss, with ``to_move`` about to play."""
    winner = _winner(cells)
    if winner is not None:
        return 1 if winner == "O" else -1
    empty = [i for i, cell in enumerate(cells) if cell == "."]
    if not empty:
        return 0
    nxt = "X" if to_move == "O" else "O"
    scores = [_minimax(cells[:i] + to_move + cells[i + 1 :], nxt) for i in empty]
    return max(scores) if to_move == "O" else min(scores)
