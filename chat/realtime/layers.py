"""Channel layer adjustments."""

from __future__ import annotations

from typing import Any

from channels.layers import InMemoryChannelLayer as _InMemoryChannelLayer


class InMemoryChannelLayer(_InMemoryChannelLayer):
    """Channels' in-memory layer, with `channel_capacity` working.

    Channels 4.3's InMemoryChannelLayer keeps the `channel_capacity` dict as given, but
    `get_capacity` expects the compiled (regex, capacity) pairs that `compile_capacities` makes
    (RedisChannelLayer compiles them), so any per-channel capacity raises ValueError on first
    use. The hub's channel needs a larger capacity than the default 100.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        configured: dict[str, int] = kwargs.get("channel_capacity") or {}
        self.channel_capacity = self.compile_capacities(configured)
