"""Finding a room by its slug: the one lookup every page, API and transport uses."""

from __future__ import annotations

from chat.errors import room_not_found
from chat.models import Room, is_room_slug


def find_room(slug: str) -> Room | None:
    """The room at `slug`, None if there is none. Checks the slug's form first: routes that take
    any slug reach here, and PostgreSQL refuses text with NUL in it."""
    if not is_room_slug(slug):
        return None
    return Room.objects.filter(slug=slug).first()


def get_room(slug: str) -> Room:
    """The room at `slug`, or ChatError room_not_found."""
    room = find_room(slug)
    if room is None:
        raise room_not_found(slug)
    return room
