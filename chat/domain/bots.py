"""Bot accounts: staff mark them (the admin, `createtoken --bot`); their events carry
`user.bot: true` on the wire, and so do `hello`'s `me` and presence."""

from __future__ import annotations

from chat.models import BotAccount
from chat.types import AnyUser

from .wire import BOT_MEMO as _MEMO

# `is_bot` keeps its answer on the user object (a connection's user asks once, when it opens:
# its `hello` and its presence entry say so). Every post reads it afresh with the writer's
# standing (chat/domain/access.py, `note_bot`), so a connection's posts carry the flag from
# the first one after staff mark the account, without reconnecting.


def is_bot(user: AnyUser) -> bool:
    if not user.is_authenticated:
        return False
    memo = getattr(user, _MEMO, None)
    if memo is None:
        memo = BotAccount.objects.filter(user_id=user.pk).exists()
        setattr(user, _MEMO, memo)
    return bool(memo)


def note_bot(user: AnyUser, bot: bool) -> None:
    """Remember what a fresh read said (the standing of a post)."""
    setattr(user, _MEMO, bot)


def mark_bot(user: AnyUser, bot: bool = True) -> None:
    """Mark (or unmark) an account as a bot."""
    user_id = user.pk
    if user_id is None:
        raise ValueError("only a saved account can be a bot")
    if bot:
        BotAccount.objects.get_or_create(user_id=user_id)
    else:
        BotAccount.objects.filter(user_id=user_id).delete()
    setattr(user, _MEMO, bot)
