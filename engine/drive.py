"""Run this project's program under the real Pulumi engine (the CLI built by `make engine`), on the local stack.

    <deploy venv>/bin/python engine/drive.py preview|up|destroy|refresh [--stack local] [--expect-no-changes]
                                             [--policy-pack DIR --policy-pack-config FILE]

The Python language host cannot be built from the module proxy, so the program runs as the Automation API's
inline program: the CLI runs the real engine (plan, diff, ordering, config validation, hooks, policy packs,
the Kubernetes provider) and calls back into this process, which runs `__main__.py` unchanged. Run it with
the deploy virtualenv (engine/deploy_venv.py): the packages `pulumi up` would install (`uv sync` of uv.lock).

The one local-only addition is a transform that sets `pulumi.com/skipAwait` on the kinds whose readiness
needs a controller the loopback cluster lacks (no nodes for pods, no load balancer for the Ingress); it is
registered here, never by the program, so no other stack's manifests carry it.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / ".engine"
# pulumi-kubernetes awaits these until pods are ready or the load balancer has an address: neither exists
# on a cluster without nodes or a GKE controller (pulumi-kubernetes provider/pkg/await).
NO_CONTROLLER_KINDS = frozenset(
    {
        "kubernetes:apps/v1:Deployment",
        "kubernetes:core/v1:Service",
        "kubernetes:networking.k8s.io/v1:Ingress",
        "kubernetes:policy/v1:PodDisruptionBudget",
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    }
)


def engine_environment() -> dict[str, str]:
    """The real engine, offline: the built binaries first on PATH, a file backend, no update check or download."""
    return {
        "PATH": os.pathsep.join((str(ENGINE / "bin"), str(ROOT / "engine"), os.environ.get("PATH", ""))),
        # The policy pack's language host runs on this interpreter (engine/language_host.py); the pack itself on
        # CODITECT_POLICY_PYTHON: the engine suite passes the pack's virtualenv (`engine/deploy_venv.py --pack`,
        # policy/uv.lock), else the dev virtualenv, which holds the same versions (uv.lock's ops group).
        "CODITECT_HOST_PYTHON": sys.executable,
        "CODITECT_POLICY_PYTHON": os.environ.get("CODITECT_POLICY_PYTHON", str(ROOT / ".venv" / "bin" / "python")),
        "PULUMI_HOME": str(ENGINE / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{ENGINE / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", ""),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_DISABLE_REGISTRY_RESOLVE": "true",
        "KUBECONFIG": os.environ.get("KUBECONFIG", str(ENGINE / "kubeconfig")),
    }


def skip_await(args: Any) -> Any:
    from coditect.adoption import annotated

    return annotated(args, {"pulumi.com/skipAwait": "true"}) if args.type_ in NO_CONTROLLER_KINDS else None


def program(appended: list[str]) -> None:
    """`__main__.py` as the CLI would run it, then the files of --append (resources a test adds to the program)."""
    import pulumi

    pulumi.runtime.register_resource_transform(skip_await)
    for path in (str(ROOT), str(ROOT / "policy")):
        if path not in sys.path:
            sys.path.insert(0, path)
    runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
    for extra in appended:
        runpy.run_path(extra, run_name="__main__")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="engine/drive.py")
    parser.add_argument("action", choices=("preview", "up", "destroy", "refresh", "outputs"))
    parser.add_argument("--stack", default="local")
    parser.add_argument("--expect-no-changes", action="store_true")
    parser.add_argument("--policy-pack", action="append", default=[])
    parser.add_argument("--policy-pack-config", action="append", default=[])
    parser.add_argument("--append", action="append", default=[], metavar="FILE", help="a Python file run after the program")
    args = parser.parse_args(argv)

    from pulumi import automation as auto

    env = engine_environment()
    os.environ.update(env)
    for folder in ("state", "pulumi-home"):
        (ENGINE / folder).mkdir(parents=True, exist_ok=True)
    workspace = auto.LocalWorkspaceOptions(
        work_dir=str(ROOT), pulumi_home=env["PULUMI_HOME"], env_vars=env, pulumi_command=auto.PulumiCommand(str(ENGINE))
    )  # ENGINE/bin/pulumi
    stack = auto.create_or_select_stack(stack_name=args.stack, project_name="coditect", program=lambda: program(args.append), opts=workspace)

    def echo(line: str) -> None:
        print(line, flush=True)

    packs: dict[str, Any] = {"policy_packs": args.policy_pack or None, "policy_pack_configs": args.policy_pack_config or None}
    try:
        if args.action == "preview":
            result = stack.preview(on_output=echo, expect_no_changes=args.expect_no_changes or None, diff=True, **packs)
            print(json.dumps({"changes": result.change_summary}))
        elif args.action == "up":
            up = stack.up(on_output=echo, expect_no_changes=args.expect_no_changes or None, **packs)
            print(json.dumps({"changes": up.summary.resource_changes, "outputs": {k: v.value for k, v in up.outputs.items()}}, default=str))
        elif args.action == "refresh":
            stack.refresh(on_output=echo)
        elif args.action == "outputs":
            print(json.dumps({k: v.value for k, v in stack.outputs().items()}, default=str))
        else:
            stack.destroy(on_output=echo)
    except auto.CommandError as error:
        sys.stderr.write(f"engine: pulumi {args.action} of stack {args.stack} failed:\n{error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
