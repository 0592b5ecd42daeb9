"""Bot accounts: staff mark them (the admin, `createtoken --bot`); their events carry
`user.bot: true` on the wire."""

from __future__ import annotations

from chat.models import BotAccount
from chat.types import AnyUser

# Where `is_bot` keeps its answer on a user object: a WebSocket connection's user asks once, not
# once per post. A change reaches a connection when it reconnects.
_MEMO = "_chat_is_bot"


def is_bot(user: AnyUser) -> bool:
    if not user.is_authenticated:
        return False
    memo = getattr(user, _MEMO, None)
    if memo is None:
        memo = BotAccount.objects.filter(user_id=user.pk).exists()
        setattr(user, _MEMO, memo)
    return bool(memo)


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
