"""coditect: the combined IDE + Socket.IO app on GKE behind the Google L7 Ingress.

The composition root: the components, and the after-up inspection they carry (the live-state
engine's, livestate.hook; import-light until the hook runs), are put together here."""

from pathlib import Path

import pulumi

from coditect.app import build_app
from coditect.base import pack_levels
from coditect.settings import load_settings
from coditect.target import load_target
from livestate.hook import inspect_until

settings = load_settings()
target = load_target(settings, Path(__file__).resolve().parent)
# The levels the CLI gives the policy pack (--policy-pack-config), so the components refuse what the pack would.
levels = pack_levels(Path(__file__).resolve().parent / "policy" / "config" / f"{pulumi.get_stack()}.json")
app = build_app(settings, target, inspect_until, levels)

pulumi.export("cluster", target.cluster_context)
pulumi.export("gcpProject", target.project)
pulumi.export("namespace", app.namespace.name)
pulumi.export("deploymentName", app.deployment.name)
pulumi.export("serviceName", app.service.name)
if app.backend_config:
    pulumi.export("backendConfigName", app.backend_config.name)
if app.ingress:
    pulumi.export("ingressName", app.ingress.name)
pulumi.export("socketioUrl", app.socketio_url)
pulumi.export("verifyCommand", f"python -m ops verify {app.socketio_url} --hold 40")
if app.static_ip:
    pulumi.export("staticIpName", app.static_ip.name)
    if app.ingress:  # without the Ingress the address is only kept for a rollback: no DNS should point at it
        pulumi.export("staticIpAddress", app.static_ip.address.address)  # point DNS for every host here
if app.monitoring:
    pulumi.export("uptimeCheckPath", app.monitoring.path)
if app.gateway and app.gateway_static_ip and app.certificate_map:
    pulumi.export("gatewayName", app.gateway.name)
    pulumi.export("gatewayStaticIpName", app.gateway_static_ip.name)
    pulumi.export("gatewayStaticIpAddress", app.gateway_static_ip.address.address)  # test with curl --resolve, then move DNS here
    if app.component:  # the component's typed output, the same records any language's consumer gets
        pulumi.export("gatewayCertificateDnsRecords", app.component.gateway_certificate_dns_records)  # create these CNAMEs so the certificate issues
