"""The adoption run's override of kubectl's field ownership, on every provider version.

pulumi-kubernetes v4 creates with a server-side apply PATCH, so an object that already exists is taken over
(provider/pkg/await/await.go, Creation), but a field another manager (kubectl) owns with another value
conflicts unless the apply is forced. Newer providers force through the provider option `enablePatchForce`;
older ones (4.25.0, the one `make engine` builds, has no such option and ignores it) only through the
`pulumi.com/patchForce` annotation, which every v4 provider reads (await.go, patchForce). So the adoption
run sets both: the annotation by a transform registered for that run only, which never reaches the manifests
of a normal run, and which `ops render` (mocks run no transforms) never shows.
"""

from __future__ import annotations

from typing import Any

import pulumi

PATCH_FORCE = "pulumi.com/patchForce"


def annotated(args: pulumi.ResourceTransformArgs, annotations: dict[str, str]) -> pulumi.ResourceTransformResult:
    """The resource of a transform with `annotations` added to its metadata (the program passes metadata as
    plain inputs, never as one Output)."""
    props = dict(args.props)
    metadata: dict[str, Any] = dict(props.get("metadata") or {})  # type: ignore[arg-type]
    metadata["annotations"] = {**dict(metadata.get("annotations") or {}), **annotations}
    props["metadata"] = metadata
    return pulumi.ResourceTransformResult(props=props, opts=args.opts)


def force_patch(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """`pulumi.com/patchForce: "true"` on every Kubernetes object (not on providers or components)."""
    if not args.custom or not args.type_.startswith("kubernetes:") or args.type_.startswith("pulumi:providers:"):
        return None
    return annotated(args, {PATCH_FORCE: "true"})


def register_adoption() -> None:
    pulumi.runtime.register_resource_transform(force_patch)
