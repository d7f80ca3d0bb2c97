"""`wholesaler champion`, `promote` and `rollback`: the registry as the team reads and changes it."""

from __future__ import annotations

import argparse
import sys

from wholesaler_assets.cli_commands.common import Handler, add_registry_arguments, tracking_uri

REGISTRY_READ = ("targets", "winners", "dataset", "feature_contract_hash", "gates", "replaced_champion",
                 "promotion_reason", "rolled_back", "rollback_reason", "shadow_refused", "retraining_reason")


def register(commands: argparse._SubParsersAction) -> dict[str, Handler]:
    champion = commands.add_parser(
        "champion", help="show the registered scorer: versions, aliases, gates, holdout metrics, MLflow links",
        description="The newest versions of the registered scorer, newest first: which holds champion and "
                    "challenger, what each carries (targets, winning models, dataset), its gates and holdout "
                    "metrics, why it was promoted or rolled back, and its page in the MLflow UI.")
    add_registry_arguments(champion)
    champion.add_argument("--versions", type=int, default=5, help="how many versions to list (default 5)")
    champion.add_argument("--ui-url", default="http://127.0.0.1:5000", help="the MLflow UI the links point at")

    promote = commands.add_parser(
        "promote", help="give the champion alias to a registered version, with the reason recorded on it",
        description="Give `champion` to a version by hand (the gates promote on their own; this is for a "
                    "person's decision). The reason is kept on the version (tag promotion_reason) and the "
                    "version it replaces is noted, so `wholesaler rollback` can undo it. Restart the "
                    "serving endpoint afterwards: it loads the champion at start.")
    promote.add_argument("version", help="the registered version number to promote")
    promote.add_argument("--reason", required=True, help="why, in words (kept on the version)")
    promote.add_argument("--force", action="store_true",
                         help="promote a version tagged shadow_refused or rolled_back all the same")
    add_registry_arguments(promote)

    back = commands.add_parser(
        "rollback", help="give the champion alias back to the previous champion, with the reason recorded",
        description="Move `champion` back to the version the current champion replaced. The rolled-back "
                    "version stays registered, tagged rolled_back and rollback_reason.")
    back.add_argument("--reason", required=True, help="why, in words (kept on the rolled-back version)")
    add_registry_arguments(back)
    return {"champion": _champion, "promote": _promote, "rollback": _rollback}


def _client(args: argparse.Namespace):
    import mlflow

    mlflow.set_tracking_uri(tracking_uri(args))
    return mlflow.MlflowClient()


def _champion(args: argparse.Namespace) -> int:
    from mlflow.exceptions import MlflowException

    from wholesaler_assets.io.registry_views import model_version_url, version_views

    try:
        views = version_views(_client(args), args.model, args.versions)
    except MlflowException as exc:
        print(f"no registered model {args.model!r} at {tracking_uri(args)}: {exc.message.splitlines()[0]}",
              file=sys.stderr)
        return 1
    if not views:
        print(f"{args.model} has no versions yet at {tracking_uri(args)}", file=sys.stderr)
        return 1
    champion = next((v for v in views if "champion" in v.aliases), None)
    print(f"{args.model} at {tracking_uri(args)}: champion "
          f"{'v' + champion.version if champion else 'none (no version has passed the gates and been promoted)'}")
    for view in views:
        aliases = f" [{', '.join(view.aliases)}]" if view.aliases else ""
        print(f"\nv{view.version}{aliases}  registered {view.created:%Y-%m-%d %H:%M} UTC")
        holdout = {k.removesuffix("_holdout_pr_auc"): v for k, v in view.metrics.items()
                   if k.endswith("_holdout_pr_auc")}
        if holdout:
            print(f"  {'holdout PR-AUC':<23}" + ", ".join(f"{t} {v:.3f}" for t, v in sorted(holdout.items())))
        for tag in REGISTRY_READ:
            if view.tags.get(tag):
                print(f"  {tag:<23}{view.tags[tag]}")
        print(f"  {'MLflow':<23}{model_version_url(args.ui_url, args.model, view.version)}")
    return 0


def _promote(args: argparse.Namespace) -> int:
    from mlflow.exceptions import MlflowException

    from wholesaler_assets.io.registry import promote_by_hand

    try:
        previous = promote_by_hand(_client(args), args.model, args.version, args.reason, args.force)
    except (ValueError, MlflowException) as exc:
        print(f"promote refused: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    print(f"{args.model}: champion is v{args.version} (was {'v' + previous if previous else 'none'}); "
          f"reason kept on the version. Restart the serving endpoint to serve it.")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from mlflow.exceptions import MlflowException

    from wholesaler_assets.io.registry import rollback

    try:
        old, new = rollback(_client(args), args.model, args.reason)
    except (ValueError, MlflowException) as exc:
        print(f"rollback refused: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    print(f"{args.model}: champion moved from v{old} back to v{new} (v{old} stays registered, tagged "
          f"rolled_back with your reason)")
    return 0
