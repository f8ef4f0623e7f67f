"""One region's public endpoint: `https://<cloud>-<region>.<name>.<zone>` (and the global name),
Triton's inference and health routes only, TLS from Let's Encrypt.

In the region's cluster:

- **cert-manager** (Helm, pinned) with a namespaced ACME `Issuer` solving DNS-01 in the platform's
  Route 53 zone. It authenticates to AWS with a token of its own service account, which an IAM
  role trusts through the cluster's OIDC issuer: the same on EKS, AKS and GKE, no stored secret.
  The role may only write the TXT records `_acme-challenge.<this region's names>`.
- **Envoy Gateway** (Helm, pinned): a `Gateway` with one HTTPS listener on 443, behind a
  `LoadBalancer` Service that takes the region's static public address (`clouds.py`), and an
  `HTTPRoute` in Triton's namespace that admits only the health and inference routes, HTTP and gRPC
  (the gRPC methods by path, so both share one hostname and port). Everything else is a 404 from
  Envoy; Triton's metrics port (8002) is never a backend.

A `Certificate` for the region's name and the global name (clients of the global name reach this
region with that SNI). Its `Ready` condition and the Gateway's `Programmed` condition are awaited
(`pulumi.com/waitFor`), so `pulumi up` reports a region whose certificate or load balancer does not
come up, by name, instead of declaring success.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from pulumi_aws import iam
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.core.v1 import Namespace, ServiceAccount
from pulumi_kubernetes.helm.v3 import Release
from pulumi_kubernetes.rbac.v1 import Role, RoleBinding

from components.global_entry.clouds import CLOUD_ENTRY, HTTPS_PORT, EntryContext, PublicAddress
from components.kubernetes.common import kubernetes_options
from planning.platform import RegionPlan
from planning.serving import GRPC_PORT, HTTP_PORT, LIVE_PATH, READY_PATH, SERVICE_NAME

CERT_MANAGER_CHART = {"chart": "cert-manager", "version": "v1.20.2",
                      "repository_opts": {"repo": "https://charts.jetstack.io"}}
ENVOY_GATEWAY_CHART = {"chart": "oci://docker.io/envoyproxy/gateway-helm", "version": "v1.8.2"}
"""Pinned charts (both support the stacks' Kubernetes 1.33); bump deliberately, per their release notes."""

CERT_MANAGER_NAMESPACE, CERT_MANAGER_ACCOUNT = "cert-manager", "cert-manager"
"""The chart's controller service account, named after the release."""
ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system"
ENTRY_NAMESPACE = "global-entry"
DNS01_ACCOUNT = "acme-dns01"
GATEWAY, GATEWAY_CLASS, LISTENER, TLS_SECRET, ISSUER = "public", "global-entry", "https", "public-tls", "letsencrypt"
ACME_SERVERS = {False: "https://acme-v02.api.letsencrypt.org/directory",
                True: "https://acme-staging-v02.api.letsencrypt.org/directory"}
STS_AUDIENCE = "sts.amazonaws.com"
AWAIT_MINUTES = 20
"""How long `pulumi up` waits for a certificate (DNS propagation + ACME) or a load balancer."""

GRPC_SERVICE = "inference.GRPCInferenceService"
PUBLIC_GRPC_METHODS = ("ModelInfer", "ModelStreamInfer", "ServerLive", "ServerReady", "ModelReady")
"""Inference and health only: no repository control, shared memory, statistics, trace or logging."""
MODEL = "^/v2/models/[^/]+(/versions/[0-9]+)?"


def public_routes() -> list[dict]:
    """The HTTPRoute rules: what the internet may call. Anything else is a 404 from Envoy."""
    return [
        {   # Health: the server's liveness and readiness (Route 53 checks readiness), a model's readiness.
            "matches": [
                {"path": {"type": "Exact", "value": LIVE_PATH}, "method": "GET"},
                {"path": {"type": "Exact", "value": READY_PATH}, "method": "GET"},
                {"path": {"type": "RegularExpression", "value": f"{MODEL}/ready$"}, "method": "GET"},
            ],
            "backendRefs": [{"name": SERVICE_NAME, "port": HTTP_PORT}],
            "timeouts": {"request": "10s"},
        },
        {   # Inference over HTTP (KServe v2), including Triton's generate extension.
            "matches": [{"path": {"type": "RegularExpression", "value": f"{MODEL}/(infer|generate|generate_stream)$"},
                         "method": "POST"}],
            "backendRefs": [{"name": SERVICE_NAME, "port": HTTP_PORT}],
            "timeouts": {"request": "300s"},
        },
        {   # Inference and health over gRPC: one path per method (HTTP/2 to Triton's h2c port).
            "matches": [{"path": {"type": "Exact", "value": f"/{GRPC_SERVICE}/{method}"}, "method": "POST"}
                        for method in PUBLIC_GRPC_METHODS],
            "backendRefs": [{"name": SERVICE_NAME, "port": GRPC_PORT}],
            # Streams stay open as long as the client keeps them.
            "timeouts": {"request": "0s"},
        },
    ]


@dataclass(frozen=True, kw_only=True)
class RegionalEndpointArgs:
    region: RegionPlan
    tags: dict[str, str]
    """The region's tags (residency zone included): on its public addresses."""
    landing_zone: pulumi.ComponentResource
    cluster: pulumi.ComponentResource
    cloud_provider: pulumi.ProviderResource
    """The provider of the region's cloud (its region's, for AWS)."""
    subscription_id: str | None = None
    project: str | None = None
    hostname: str
    global_hostname: str
    serving: pulumi.ComponentResource
    """The region's TritonRegion: `namespace`, `service`."""
    hosted_zone_id: pulumi.Input[str]
    dns_provider: pulumi.ProviderResource
    """The AWS provider Route 53 and IAM (both global) are managed with."""
    aws_region: str
    """That provider's region: where cert-manager's AWS calls are signed for."""
    acme_staging: bool = False
    acme_email: str | None = None
    renew_before_percentage: int = 33
    global_tags: dict[str, str]


class RegionalEndpoint(pulumi.ComponentResource):
    address: PublicAddress
    gateway: CustomResource
    certificate: CustomResource

    def __init__(self, name: str, args: RegionalEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:RegionalEndpoint", name, None, opts)
        ctx = EntryContext(name, args.region, args.tags, args.landing_zone, args.cluster, args.cloud_provider, self,
                           args.subscription_id, args.project)
        row = CLOUD_ENTRY[ctx.region.cloud]
        self.address = row.address(ctx)
        role, rights = self._dns01_role(name, args, row.oidc_issuer(ctx))
        cluster = ctx.cluster
        k8s = kubernetes_options(cluster, self)
        namespace = Namespace(
            f"{name}-namespace",
            metadata={"name": ENTRY_NAMESPACE, "labels": {"pod-security.kubernetes.io/enforce": "restricted",
                                                          "pod-security.kubernetes.io/enforce-version": "latest"}},
            opts=k8s,
        )
        cert_manager = Release(
            f"{name}-cert-manager",
            name="cert-manager",
            namespace=CERT_MANAGER_NAMESPACE,
            create_namespace=True,
            **CERT_MANAGER_CHART,
            values={"crds": {"enabled": True, "keep": True}},
            opts=k8s,
        )
        envoy_gateway = Release(
            f"{name}-envoy-gateway",
            name="envoy-gateway",
            namespace=ENVOY_GATEWAY_NAMESPACE,
            create_namespace=True,
            **ENVOY_GATEWAY_CHART,
            opts=k8s,
        )
        self.certificate = self._certificate(name, args, namespace, [cert_manager, rights], role, cluster)
        self.gateway = self._gateway(name, args, namespace, envoy_gateway, cluster)
        CustomResource(
            f"{name}-routes",
            api_version="gateway.networking.k8s.io/v1",
            kind="HTTPRoute",
            metadata={"name": "triton-public", "namespace": args.serving.namespace},
            spec={
                "parentRefs": [{"name": GATEWAY, "namespace": ENTRY_NAMESPACE, "sectionName": LISTENER}],
                "hostnames": [args.hostname, args.global_hostname],
                "rules": public_routes(),
            },
            opts=kubernetes_options(cluster, self, depends_on=[envoy_gateway, args.serving.service]),
        )
        self.register_outputs({"hostname": args.hostname, "addresses": self.address.ips})

    def _dns01_role(self, name: str, args: RegionalEndpointArgs,
                    issuer: pulumi.Input[str]) -> tuple[iam.Role, iam.RolePolicy]:
        """An IAM role this cluster's cert-manager may assume with its service account token, allowed
        to write only the ACME challenge records of this region's names."""
        opts = pulumi.ResourceOptions(parent=self, provider=args.dns_provider)
        issuer_host = pulumi.Output.from_input(issuer).apply(lambda url: url.removeprefix("https://").rstrip("/"))
        provider = iam.OpenIdConnectProvider(
            f"{name}-oidc", url=issuer, client_id_lists=[STS_AUDIENCE], tags=args.global_tags, opts=opts,
        )
        subject = f"system:serviceaccount:{ENTRY_NAMESPACE}:{DNS01_ACCOUNT}"
        role = iam.Role(
            f"{name}-acme",
            assume_role_policy=pulumi.Output.all(provider.arn, issuer_host).apply(
                lambda a: json.dumps({"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Federated": a[0]},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {f"{a[1]}:sub": subject, f"{a[1]}:aud": STS_AUDIENCE}},
                }]})
            ),
            tags=args.global_tags,
            opts=opts,
        )
        rights = iam.RolePolicy(
            f"{name}-acme-dns01",
            role=role.id,
            policy=pulumi.Output.from_input(args.hosted_zone_id).apply(
                lambda zone_id: dns01_policy(zone_id, [args.hostname, args.global_hostname])
            ),
            opts=opts,
        )
        return role, rights

    def _certificate(self, name, args: RegionalEndpointArgs, namespace, prerequisites, role, cluster) -> CustomResource:
        token_role = Role(
            f"{name}-dns01-token",
            metadata={"name": f"{DNS01_ACCOUNT}-token", "namespace": namespace.metadata.name},
            rules=[{"api_groups": [""], "resources": ["serviceaccounts/token"], "resource_names": [DNS01_ACCOUNT],
                    "verbs": ["create"]}],
            opts=kubernetes_options(cluster, self),
        )
        account = ServiceAccount(
            f"{name}-dns01",
            metadata={"name": DNS01_ACCOUNT, "namespace": namespace.metadata.name},
            automount_service_account_token=False,
            opts=kubernetes_options(cluster, self),
        )
        binding = RoleBinding(
            f"{name}-dns01-token",
            metadata={"name": f"{DNS01_ACCOUNT}-token", "namespace": namespace.metadata.name},
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": token_role.metadata.name},
            subjects=[{"kind": "ServiceAccount", "name": CERT_MANAGER_ACCOUNT, "namespace": CERT_MANAGER_NAMESPACE}],
            opts=kubernetes_options(cluster, self),
        )
        acme = {
            "server": ACME_SERVERS[args.acme_staging],
            "privateKeySecretRef": {"name": "letsencrypt-account"},
            "solvers": [{"dns01": {"route53": {
                "region": args.aws_region,
                "hostedZoneID": args.hosted_zone_id,
                "role": role.arn,
                "auth": {"kubernetes": {"serviceAccountRef": {"name": account.metadata.name}}},
            }}}],
            **({"email": args.acme_email} if args.acme_email else {}),
        }
        issuer = CustomResource(
            f"{name}-issuer",
            api_version="cert-manager.io/v1",
            kind="Issuer",
            metadata={"name": ISSUER, "namespace": namespace.metadata.name},
            spec={"acme": acme},
            # cert-manager's CRDs, its right to a token, and the role's rights before the first challenge.
            opts=kubernetes_options(cluster, self, depends_on=[*prerequisites, binding]),
        )
        return CustomResource(
            f"{name}-certificate",
            api_version="cert-manager.io/v1",
            kind="Certificate",
            metadata={"name": TLS_SECRET, "namespace": namespace.metadata.name, "annotations": _await("condition=Ready")},
            spec={
                "secretName": TLS_SECRET,
                "dnsNames": [args.hostname, args.global_hostname],
                "issuerRef": {"kind": "Issuer", "name": ISSUER},
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                # Regions renew on different days: their challenges for the shared global name never race.
                "renewBeforePercentage": args.renew_before_percentage,
            },
            opts=kubernetes_options(cluster, self, depends_on=[issuer]),
        )

    def _gateway(self, name, args: RegionalEndpointArgs, namespace, envoy_gateway, cluster) -> CustomResource:
        after_chart = kubernetes_options(cluster, self, depends_on=[envoy_gateway])
        service = {
            "type": "LoadBalancer",
            # Client addresses reach Envoy unchanged; only nodes running Envoy take traffic.
            "externalTrafficPolicy": "Local",
            "annotations": self.address.annotations,
            **({"loadBalancerIP": self.address.load_balancer_ip} if self.address.load_balancer_ip else {}),
        }
        proxy = CustomResource(
            f"{name}-proxy",
            api_version="gateway.envoyproxy.io/v1alpha1",
            kind="EnvoyProxy",
            metadata={"name": GATEWAY, "namespace": namespace.metadata.name},
            spec={"provider": {"type": "Kubernetes", "kubernetes": {
                "envoyDeployment": {
                    "replicas": 2,
                    "container": {"resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                                                "limits": {"cpu": "2", "memory": "1Gi"}}},
                },
                "envoyService": service,
                "envoyPDB": {"minAvailable": 1},
            }}},
            opts=after_chart,
        )
        gateway_class = CustomResource(
            f"{name}-gateway-class",
            api_version="gateway.networking.k8s.io/v1",
            kind="GatewayClass",
            metadata={"name": GATEWAY_CLASS},
            spec={
                "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
                "parametersRef": {"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy", "name": GATEWAY,
                                  "namespace": ENTRY_NAMESPACE},
            },
            opts=kubernetes_options(cluster, self, depends_on=[envoy_gateway, proxy]),
        )
        return CustomResource(
            f"{name}-gateway",
            api_version="gateway.networking.k8s.io/v1",
            kind="Gateway",
            metadata={"name": GATEWAY, "namespace": namespace.metadata.name, "annotations": _await("condition=Programmed")},
            spec={
                "gatewayClassName": GATEWAY_CLASS,
                "listeners": [{
                    "name": LISTENER,
                    "protocol": "HTTPS",
                    "port": HTTPS_PORT,
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": TLS_SECRET}]},
                    "allowedRoutes": {
                        "namespaces": {"from": "Selector", "selector": {
                            "matchLabels": {"kubernetes.io/metadata.name": args.serving.namespace}}},
                        "kinds": [{"kind": "HTTPRoute"}],
                    },
                }],
            },
            # Serve only with a certificate, and ask for the load balancer only once its address may be used.
            opts=kubernetes_options(cluster, self,
                                    depends_on=[envoy_gateway, gateway_class, self.certificate, *self.address.ready]),
        )


def _await(condition: str) -> dict[str, str]:
    return {"pulumi.com/waitFor": condition, "pulumi.com/timeoutSeconds": str(AWAIT_MINUTES * 60)}


def dns01_policy(zone_id: str, names: list[str]) -> str:
    """Route 53 rights for DNS-01 on `names` only: TXT records `_acme-challenge.<name>` in one zone."""
    zone = f"arn:aws:route53:::hostedzone/{zone_id}"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Propagation", "Effect": "Allow", "Action": "route53:GetChange", "Resource": "arn:aws:route53:::change/*"},
        {"Sid": "ChallengeRecords", "Effect": "Allow", "Action": "route53:ChangeResourceRecordSets", "Resource": zone,
         "Condition": {
             "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]},
             "ForAllValues:StringLike": {
                 "route53:ChangeResourceRecordSetsNormalizedRecordNames": [f"_acme-challenge.{n}" for n in names]},
         }},
        {"Sid": "ReadRecords", "Effect": "Allow", "Action": "route53:ListResourceRecordSets", "Resource": zone},
    ]})
