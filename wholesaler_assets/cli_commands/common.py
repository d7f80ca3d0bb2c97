"""What the subcommands share: registering them, and where the MLflow registry is."""


from __future__ import annotations

import argparse
import os
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]
DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"  # the embedded store `make demo` writes


def register_all(commands: argparse._SubParsersAction) -> dict[str, Handler]:
    from wholesaler_assets.cli_commands import registry, scoring

    return {**scoring.register(commands), **registry.register(commands)}


def add_registry_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the registry is: --tracking-uri (default $MLFLOW_TRACKING_URI, else the demo's store) and --model."""
    parser.add_argument("--tracking-uri", default=None,
                        help=f"MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else {DEFAULT_TRACKING_URI})")
    parser.add_argument("--model", default="lead_scorer", help="registered model name (default: lead_scorer)")


def tracking_uri(args: argparse.Namespace) -> str:
    return args.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
