"""The `wholesaler` subcommands a team lives in, one module per concern; `cli.py` registers them.

Each module's `register(commands)` adds its parsers and returns {command: handler}; a handler
takes the parsed arguments and returns the exit code.
"""
