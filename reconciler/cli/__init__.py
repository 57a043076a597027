"""Command line: argument parsing and wiring. The only package that prints or exits.

Commands live one module each and are imported when they run (reconciler.cli.app.LazyGroup);
a new command's module goes into app.COMMAND_MODULES.

The top of the pipeline: may import every package; nothing imports it.
"""

from reconciler.cli.app import all_commands, cli, main

__all__ = ["all_commands", "cli", "main"]
