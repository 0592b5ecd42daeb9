"""Moderation actions, one concern per module: removing content (removal), timeouts and bans
(sanctions), the review queue (review), moderators and members (roles). Each action checks
that its actor may take it, appends a room event (so every viewer on every transport sees it
at once) and writes an audit entry (who, what, to whom, why). Moderation events carry no actor
on the wire: their `user` is the affected user (a `ban`'s target) or null.
"""
