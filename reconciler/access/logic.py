"""Three-valued logic (Kleene): NO < MAYBE < YES. MAYBE is "cannot tell", never a guess."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class Tri(IntEnum):
    NO = 0
    MAYBE = 1
    YES = 2


def all_of(values: Iterable[Tri]) -> Tri:
    """AND: NO wins, then MAYBE; an empty AND is YES."""
    return min(values, default=Tri.YES)


def any_of(values: Iterable[Tri]) -> Tri:
    """OR: YES wins, then MAYBE; an empty OR is NO."""
    return max(values, default=Tri.NO)


def negate(value: Tri) -> Tri:
    return Tri(2 - value)


def tri(flag: bool) -> Tri:
    return Tri.YES if flag else Tri.NO
