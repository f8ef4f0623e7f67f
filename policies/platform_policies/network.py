"""Network: strong IKEv2 VPNs, and no rule admitting the internet except on configured entry ports."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .checks import is_world
from .definitions import ConfigKey, PolicyDefinition
from .model import Resource, get_path, is_unknown, items, known_items

PUBLIC_PORTS = ConfigKey(
    "publicPorts",
    {
        "type": "array",
        "description": "The only TCP/UDP ports a rule may open to 0.0.0.0/0 or ::/0 (the public entry points).",
        "items": {"type": "integer", "minimum": 1},
        "default": [443],
    },
)

# --- ingress -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ingress:
    """One inbound allow rule, normalized across clouds. `ports` None means every port."""

    where: str
    sources: list[Any]
    protocol: str
    ports: list[tuple[int, int]] | None


_ALL_PROTOCOLS = {"-1", "all", "*"}


def _port_range(spec: Any) -> tuple[int, int] | None:
    """'443', '8000-8002', 443 -> (lo, hi); '*' -> None (all ports). Callers drop unknowns."""
    text = str(spec).strip()
    if text in ("*", ""):
        return None
    lo, _, hi = text.partition("-")
    return int(float(lo)), int(float(hi or lo))


def _aws_ports(rule: Any) -> list[tuple[int, int]] | None:
    lo, hi = get_path(rule, "fromPort"), get_path(rule, "toPort")
    if is_unknown(lo) or is_unknown(hi):
        return []  # not fail-closed: a port computed at deploy time is not judged at preview
    if lo is None or hi is None or (int(lo), int(hi)) in ((0, 0), (-1, -1), (0, 65535)):
        return None
    return [(int(lo), int(hi))]


def _aws_security_group(r: Resource) -> Iterator[Ingress]:
    for i, rule in enumerate(known_items(r.get("ingress"))):
        sources = known_items(get_path(rule, "cidrBlocks")) + known_items(get_path(rule, "ipv6CidrBlocks"))
        yield Ingress(f"ingress[{i}]", sources, str(get_path(rule, "protocol")).lower(), _aws_ports(rule))


def _aws_ingress_rule(r: Resource) -> Iterator[Ingress]:
    yield Ingress("rule", [r.get("cidrIpv4"), r.get("cidrIpv6")], str(r.get("ipProtocol")).lower(), _aws_ports(r.props))


def _azure_rule(rule: Any, where: str) -> Iterator[Ingress]:
    if str(get_path(rule, "direction")).lower() != "inbound" or str(get_path(rule, "access")).lower() != "allow":
        return
    sources = [get_path(rule, "sourceAddressPrefix"), *known_items(get_path(rule, "sourceAddressPrefixes"))]
    specs = [get_path(rule, "destinationPortRange"), *known_items(get_path(rule, "destinationPortRanges"))]
    ranges = [_port_range(s) for s in specs if s is not None and not is_unknown(s)]
    yield Ingress(where, sources, str(get_path(rule, "protocol")).lower(), None if None in ranges else ranges)


def _azure_nsg(r: Resource) -> Iterator[Ingress]:
    for i, rule in enumerate(known_items(r.get("securityRules"))):
        yield from _azure_rule(rule, f"securityRules[{i}]")


def _azure_security_rule(r: Resource) -> Iterator[Ingress]:
    yield from _azure_rule(r.props, "rule")


def _gcp_firewall(r: Resource) -> Iterator[Ingress]:
    direction = r.get("direction")
    if (isinstance(direction, str) and direction.upper() != "INGRESS") or r.get("disabled") is True:
        return
    sources = known_items(r.get("sourceRanges"))
    for i, allow in enumerate(known_items(r.get("allows"))):
        ports = known_items(get_path(allow, "ports"))
        ranges = None if not ports else [_port_range(p) for p in ports if not is_unknown(p)]
        yield Ingress(f"allows[{i}]", sources, str(get_path(allow, "protocol")).lower(),
                      None if ranges is None or None in ranges else ranges)


INGRESS_RULES: dict[str, Callable[[Resource], Iterator[Ingress]]] = {
    "aws:ec2/securityGroup:SecurityGroup": _aws_security_group,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _aws_ingress_rule,
    "azure-native:network:NetworkSecurityGroup": _azure_nsg,
    "azure-native:network:SecurityRule": _azure_security_rule,
    "gcp:compute/firewall:Firewall": _gcp_firewall,
}


def check_public_ingress(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    allowed = set(int(p) for p in config["publicPorts"])
    for rule in INGRESS_RULES[resource.type](resource):
        # An unknown source is an address of another resource of the deployment, never 0.0.0.0/0.
        world = [s for s in rule.sources if not is_unknown(s) and is_world(s)]
        if not world:
            continue
        if rule.protocol in _ALL_PROTOCOLS or rule.ports is None:
            yield f"{rule.where} admits {world[0]} on every port"
            continue
        opened = sorted({p for lo, hi in rule.ports for p in range(lo, hi + 1)} - allowed)
        if opened:
            shown = ", ".join(map(str, opened[:5])) + (" ..." if len(opened) > 5 else "")
            yield f"{rule.where} admits {world[0]} on port(s) {shown}; only publicPorts {sorted(allowed)} may be public"


# --- VPN -----------------------------------------------------------------------------------

# "IKEv2, AES-256 (GCM where offered), SHA-256 or better, DH group 14 or higher" (DESIGN.md 5).
AWS_TUNNEL_ALGORITHMS = {
    "IkeVersions": {"ikev2"},
    "Phase1EncryptionAlgorithms": {"AES256", "AES256-GCM-16"},
    "Phase2EncryptionAlgorithms": {"AES256", "AES256-GCM-16"},
    "Phase1IntegrityAlgorithms": {"SHA2-256", "SHA2-384", "SHA2-512"},
    "Phase2IntegrityAlgorithms": {"SHA2-256", "SHA2-384", "SHA2-512"},
    "Phase1DhGroupNumbers": set(range(14, 25)),
    "Phase2DhGroupNumbers": set(range(14, 25)),
}

AZURE_IPSEC_ALGORITHMS = {
    "ikeEncryption": {"AES256", "GCMAES256"},
    "ikeIntegrity": {"SHA256", "SHA384", "GCMAES256"},
    "dhGroup": {"DHGroup14", "DHGroup2048", "DHGroup24", "ECP256", "ECP384"},
    "ipsecEncryption": {"AES256", "GCMAES256"},
    "ipsecIntegrity": {"SHA256", "GCMAES256"},
    "pfsGroup": {"PFS14", "PFS2048", "PFS24", "ECP256", "ECP384"},
}

# GCP cipher suite names: AES-CBC-256, AES-GCM-16-256, HMAC-SHA2-256-128, Group-14, ...
GCP_CIPHER_RULES = {
    "phase1.encryptions": re.compile(r"^AES-(CBC|GCM-\d+)-256$"),
    "phase1.integrities": re.compile(r"^HMAC-SHA2-(256|384|512)-\d+$"),
    "phase1.prves": re.compile(r"^PRF-HMAC-SHA2-(256|384|512)$"),
    "phase1.dhs": re.compile(r"^Group-(1[4-9]|2[0-4])$"),
    "phase2.encryptions": re.compile(r"^AES-(CBC|GCM-\d+)-256$"),
    "phase2.integrities": re.compile(r"^HMAC-SHA2-(256|384|512)-\d+$"),
    "phase2.pfs": re.compile(r"^Group-(1[4-9]|2[0-4])$"),
}


def _weak(values: Any, ok: Callable[[Any], bool], path: str) -> Iterator[str]:
    values = items(values)
    if is_unknown(values):
        return
    if not values:
        yield f"{path} is not set, so the provider's default proposals (which include weak algorithms) apply"
    bad = [v for v in values if not is_unknown(v) and not ok(v)]
    if bad:
        yield f"{path} allows {', '.join(map(str, bad))}"


def check_aws_vpn(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    for tunnel in (1, 2):
        for suffix, allowed in AWS_TUNNEL_ALGORITHMS.items():
            prop = f"tunnel{tunnel}{suffix}"
            yield from _weak(resource.get(prop), lambda v, a=allowed: (int(v) if isinstance(v, float) else v) in a, prop)


def check_azure_vpn(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if resource.get("connectionType") not in ("IPsec", "Vnet2Vnet"):
        return
    protocol = resource.get("connectionProtocol")
    if not is_unknown(protocol) and protocol != "IKEv2":
        yield f"connectionProtocol is {protocol!r}; expected 'IKEv2'"
    policies = items(resource.get("ipsecPolicies"))
    if is_unknown(policies):
        return
    if not policies:
        yield "ipsecPolicies is empty, so Azure's default proposals (which include weak algorithms) apply"
    for i, policy in enumerate(policies):
        for prop, allowed in AZURE_IPSEC_ALGORITHMS.items():
            yield from _weak(get_path(policy, prop), lambda v, a=allowed: v in a, f"ipsecPolicies[{i}].{prop}")


def check_gcp_vpn(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    version = resource.get("ikeVersion")
    # GCP defaults to IKEv2 when ikeVersion is unset.
    if version is not None and not is_unknown(version) and int(version) != 2:
        yield f"ikeVersion is {version!r}; expected 2"
    suite = resource.get("cipherSuite")
    if suite is None or is_unknown(suite):
        return  # HA VPN negotiates only strong ciphers when no suite is pinned
    for path, pattern in GCP_CIPHER_RULES.items():
        values = get_path(suite, path)
        if values is not None:
            yield from _weak(values, lambda v, p=pattern: bool(p.match(str(v))), f"cipherSuite.{path}")


def _policy(name, description, types, check, *, config=(), severity="high"):
    return PolicyDefinition(
        name=name, description=description, severity=severity, frameworks=("CIS",), enforcement="mandatory",
        resource_types=types, check=check, config=config,
    )


POLICIES = (
    _policy("aws-ec2-securitygroup-no-public-ingress",
            "A security group rule admits 0.0.0.0/0 or ::/0 only on a configured public entry port.",
            ("aws:ec2/securityGroup:SecurityGroup", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
            check_public_ingress, config=(PUBLIC_PORTS,), severity="critical"),
    _policy("azure-network-networksecuritygroup-no-public-ingress",
            "A network security rule admits the internet only on a configured public entry port.",
            ("azure-native:network:NetworkSecurityGroup", "azure-native:network:SecurityRule"),
            check_public_ingress, config=(PUBLIC_PORTS,), severity="critical"),
    _policy("gcp-compute-firewall-no-public-ingress",
            "A firewall rule admits 0.0.0.0/0 or ::/0 only on a configured public entry port.",
            ("gcp:compute/firewall:Firewall",), check_public_ingress, config=(PUBLIC_PORTS,), severity="critical"),
    _policy("aws-ec2-vpnconnection-ikev2-strong-crypto",
            "Both tunnels of a site-to-site VPN use IKEv2 with AES-256, SHA-2 and DH group 14 or higher only.",
            ("aws:ec2/vpnConnection:VpnConnection",), check_aws_vpn),
    _policy("azure-network-virtualnetworkgatewayconnection-ikev2-strong-crypto",
            "A VPN gateway connection uses IKEv2 with a custom IPsec policy of AES-256, SHA-2 and DH group 14 or higher.",
            ("azure-native:network:VirtualNetworkGatewayConnection",), check_azure_vpn),
    _policy("gcp-compute-vpntunnel-ikev2-strong-crypto",
            "A VPN tunnel uses IKEv2, and any pinned cipher suite has AES-256, SHA-2 and DH group 14 or higher only.",
            ("gcp:compute/vPNTunnel:VPNTunnel",), check_gcp_vpn),
)
