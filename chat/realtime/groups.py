"""Names in the channel layer, built in one place."""

from __future__ import annotations

# Channels allows [a-zA-Z0-9._-] in group names, fewer than 100 characters.


def room_group_name(room_id: int) -> str:
    return f"room.{room_id}"


def notice_group_name() -> str:
    """Every process's hub, for notices that concern no one room (notices.py)."""
    return "hub.notices"
