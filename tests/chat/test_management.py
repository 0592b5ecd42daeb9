"""Management commands (chat/management/): `createroom`."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.management import CommandError, call_command

from chat.models import Room

pytestmark = pytest.mark.django_db


def test_createroom_command(alice: AbstractBaseUser) -> None:
    call_command("createroom", "launch", "--title", "Launch party", "--owner", "alice")
    room = Room.objects.get(slug="launch")
    assert (room.title, room.owner) == ("Launch party", alice)
    with pytest.raises(CommandError, match="already exists"):
        call_command("createroom", "launch")
    call_command("createroom", "launch", "--exist-ok")
    with pytest.raises(CommandError, match="invalid slug"):
        call_command("createroom", "Not OK")
    with pytest.raises(CommandError, match="no user"):
        call_command("createroom", "other", "--owner", "ghost")
    assert Room.objects.count() == 1


def test_newlogepoch_gives_every_room_a_new_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    rooms = [Room.objects.create(slug=slug, title=slug) for slug in ("one", "two")]
    call_command("newlogepoch")
    assert capsys.readouterr().out.strip() == "new log epoch for 2 room(s)"
    for room in rooms:
        before = room.log_epoch
        room.refresh_from_db()
        assert room.log_epoch != before
