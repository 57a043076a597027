"""The state collaborators.yaml would produce, built offline (no AWS): plan against an empty
account and apply the plan in memory. Statements other tools wrote are not in it."""

from __future__ import annotations

from reconciler import planner
from reconciler.access.projected import empty_state, project
from reconciler.model import Config, LiveState


def desired_state(config: Config) -> LiveState:
    empty = empty_state(config)
    return project(config, empty, planner.plan(config, empty))
