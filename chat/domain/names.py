"""User names: whether a new name looks like one already taken (Unicode TR39 skeletons).

Two names look alike when their skeletons are equal: the skeleton (ICU's SpoofChecker, the
reference implementation of UTS #39) maps every character to the prototype it is confusable
with (Cyrillic `\u0430` to Latin `a`, `I` to `l`, `m` to `rn`). Each user's skeleton is stored
(`NameSkeleton`, kept current whenever a user is saved), so the check is one indexed lookup.
Case does not count: the skeleton is case-folded and mapped once more, so `AIice` looks like
`alice` as it looks like `Alice`; names that differ only in case are refused by Django already.
"""

from __future__ import annotations

from typing import Any

from icu import SpoofChecker

from chat.models import NameSkeleton

_checker = SpoofChecker()  # getSkeleton only reads the checker's data: safe to share


def _skeleton(text: str) -> str:
    skeleton: str = _checker.getSkeleton(0, text)  # the type argument is ignored since ICU 58
    return skeleton


def name_skeleton(name: str) -> str:
    """The case-insensitive TR39 skeleton of `name`: equal for names that look alike."""
    return _skeleton(_skeleton(name).casefold())


def looks_taken(name: str, *, excluding: Any = None) -> bool:
    """Whether another user's name looks like `name`."""
    others = NameSkeleton.objects.filter(skeleton=name_skeleton(name))
    if excluding is not None:
        others = others.exclude(user_id=excluding)
    return others.exists()


def remember_name_skeleton(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """post_save of the user model: store the user's current skeleton (a sign-up, a rename in
    the admin, createsuperuser alike). Fixture loading (`raw`) is left alone."""
    if raw:
        return
    NameSkeleton.objects.update_or_create(
        user_id=instance.pk, defaults={"skeleton": name_skeleton(instance.get_username())}
    )
