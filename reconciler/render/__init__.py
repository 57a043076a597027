"""Renderers: pure functions of a Plan (or apply result) returning text."""
