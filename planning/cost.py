"""The monthly cost of a stack, from its plan JSON: what would really be created, priced.

Pure: `estimate(plan, catalogue)` maps every billable custom resource of the plan (the offline
preview's plan JSON) to catalogue items through `RULES` (one row per resource type), prices them,
and returns the estimate per region and per line item, node pools at their minimum and at their
maximum size. `compare(base, head)` is the delta of a change; `render_text` / `render_markdown`
show either.

Every custom resource type must be priced by a rule or listed in `planning/data/billing.yaml` as
free or usage-billed; an unclassified type or a missing price raises `CostError` naming it, so the
estimate never counts something as free by omission. Usage-billed charges (storage, transfer,
requests) are not estimated; the estimate lists those types under `not_included`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from planning.prices import Catalogue, PriceError, Quote, node_shape

BILLING_PATH = Path(__file__).resolve().parent / "data" / "billing.yaml"
GLOBAL = "global"
HOSTING_CLOUDS = ("aws", "azure", "gcp")
POOL_LABEL = "multicloud-inference/pool"
CLOUD_NAT_MAX_BILLED_VMS = 32


class CostError(Exception):
    """The plan cannot be costed; `problems` has one line per unclassified type or missing price."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"cannot estimate the cost ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


@dataclass(frozen=True)
class Charge:
    """What one resource bills: `quantity` units of `item`, at the pool's minimum and maximum."""

    item: str
    description: str
    quantity: tuple[float, float]
    spot: bool | None = None
    """None for a fixed item; for a node shape, whether it is priced as spot."""


def _fixed(item: str, description: str, count: float = 1) -> Charge:
    return Charge(item, description, (count, count))


def _nodes(cloud: str, shape: str, labels: Mapping[str, str] | None, bounds: tuple[int, int], spot: bool) -> Charge:
    role = {"gpu": "GPU nodes", "system": "system nodes"}.get((labels or {}).get(POOL_LABEL, ""), "nodes")
    return Charge(shape, f"{role} {shape} ({'spot' if spot else 'on-demand'})", bounds, spot)


# --- rules: what each billable resource type costs -------------------------------------------------

Rule = Callable[[dict[str, Any], "_Context"], list[Charge]]


def _eks_node_group(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    i = r["inputs"]
    scaling = i.get("scalingConfig", {})
    return [_nodes("aws", i["instanceTypes"][0], i.get("labels"),
                   (scaling.get("minSize", 0), scaling.get("maxSize", 0)), i.get("capacityType") == "SPOT")]


def _aks_pool_charge(pool: Mapping[str, Any]) -> Charge:
    if pool.get("enableAutoScaling"):
        bounds = (pool.get("minCount", 0), pool.get("maxCount", 0))
    else:
        bounds = (pool.get("count", 1), pool.get("count", 1))
    return _nodes("azure", pool["vmSize"], pool.get("nodeLabels"), bounds, pool.get("scaleSetPriority") == "Spot")


def _aks_cluster(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    i = r["inputs"]
    tier = str((i.get("sku") or {}).get("tier", "Free")).lower()
    charges = [_fixed(f"aks-control-plane-{tier}", f"AKS control plane ({tier} tier)")]
    return charges + [_aks_pool_charge(p) for p in i.get("agentPoolProfiles", [])]


def _gke_zones(i: Mapping[str, Any]) -> int:
    """Zones a GKE pool spreads over: its node locations, else three for a regional location."""
    if i.get("nodeLocations"):
        return len(i["nodeLocations"])
    location = str(i.get("location", ""))
    return 1 if location[-2:-1] == "-" and location[-1].isalpha() else 3


def _gke_node_charge(i: Mapping[str, Any], config: Mapping[str, Any], bounds: tuple[int, int]) -> Charge:
    accelerators = config.get("guestAccelerators") or []
    accelerator = accelerators[0]["type"] if accelerators else None
    gpus = int(accelerators[0].get("count", 0)) if accelerators else 0
    shape = node_shape("gcp", config.get("machineType", "e2-medium"), accelerator, gpus)
    return _nodes("gcp", shape, config.get("labels"), bounds, bool(config.get("spot") or config.get("preemptible")))


def _gke_cluster(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    i = r["inputs"]
    charges = [_fixed("gke-cluster-management", "GKE cluster management")]
    if not i.get("removeDefaultNodePool"):
        count = i.get("initialNodeCount", 1) * _gke_zones(i)
        charges.append(_gke_node_charge(i, i.get("nodeConfig") or {}, (count, count)))
    return charges


def _gke_node_pool(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    i = r["inputs"]
    scaling = i.get("autoscaling") or {}
    zones = _gke_zones(i)
    if "totalMinNodeCount" in scaling or "totalMaxNodeCount" in scaling:
        bounds = (scaling.get("totalMinNodeCount", 0), scaling.get("totalMaxNodeCount", 0))
    elif scaling:
        bounds = (scaling.get("minNodeCount", 0) * zones, scaling.get("maxNodeCount", 0) * zones)
    else:
        count = i.get("nodeCount", i.get("initialNodeCount", 1)) * zones
        bounds = (count, count)
    return [_gke_node_charge(i, i.get("nodeConfig") or {}, bounds)]


def _route53_health_check(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    i = r["inputs"]
    kind = str(i.get("type", ""))
    options = sum((
        kind.startswith("HTTPS"),
        kind.endswith("STR_MATCH"),
        i.get("requestInterval") == 10,
        bool(i.get("measureLatency")),
    ))
    charges = [_fixed("route53-health-check", "Route 53 health check")]
    if options:
        charges.append(_fixed("route53-health-check-option", "Route 53 health check options", options))
    return charges


def _aws_load_balancer(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    kind = r["inputs"].get("loadBalancerType", "application")
    return [_fixed(f"load-balancer-{kind}", f"{kind} load balancer")]


def _vpc_endpoint(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    i = r["inputs"]
    if i.get("vpcEndpointType", "Gateway") == "Gateway":
        return []  # S3 and DynamoDB gateway endpoints are free
    return [_fixed("vpc-interface-endpoint-az", "VPC interface endpoint (per zone)", max(1, len(i.get("subnetIds") or [])))]


def _vpn_connection(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    charges = [_fixed("vpn-connection", "Site-to-Site VPN connection")]
    if r["inputs"].get("transitGatewayId"):
        charges.append(_fixed("tgw-attachment", "Transit Gateway attachment"))
    return charges


def _key_vault_key(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    properties = r["inputs"].get("properties") or {}
    kty = str(properties.get("kty", "RSA"))
    if not kty.endswith("-HSM"):
        return [_fixed("keyvault-software-key", "Key Vault software key")]
    if kty == "RSA-HSM" and int(properties.get("keySize", 2048)) == 2048:
        return [_fixed("keyvault-hsm-key-rsa2048", "Key Vault HSM key (RSA 2048)")]
    return [_fixed("keyvault-hsm-key-advanced", f"Key Vault HSM key ({kty} {properties.get('keySize', '')})".replace(" )", ")"))]


def _sku(r: dict[str, Any], default: str) -> str:
    return str((r["inputs"].get("sku") or {}).get("name", default))


def _gcp_crypto_key(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    level = str((r["inputs"].get("versionTemplate") or {}).get("protectionLevel", "SOFTWARE")).lower()
    return [_fixed(f"kms-key-version-{level}", f"Cloud KMS key version ({level})")]


def _gcp_address(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    if r["inputs"].get("addressType", "EXTERNAL") == "INTERNAL":
        return []
    return [_fixed("external-ipv4", "external IPv4 address")]


def _cloud_nat(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    low, high = ctx.vms(ctx.region_key(r))
    cap = CLOUD_NAT_MAX_BILLED_VMS
    charges = [Charge("cloud-nat-vm", "Cloud NAT (per VM using it)", (min(low, cap), min(high, cap)))]
    if r["inputs"].get("natIpAllocateOption", "AUTO_ONLY") == "AUTO_ONLY":
        # Cloud NAT allocates (and bills) at least one external address; manual ones are Address resources.
        charges.append(_fixed("external-ipv4", "Cloud NAT external IPv4 address"))
    return charges


def _traffic_manager_endpoint(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    external = "externalEndpoints" in str(r["inputs"].get("type", ""))
    kind = "external" if external else "azure"
    return [_fixed(f"traffic-manager-endpoint-{kind}", f"Traffic Manager endpoint ({kind})")]


def _kubernetes_service(r: dict[str, Any], ctx: _Context) -> list[Charge]:
    """A Service of type LoadBalancer makes the hosting cloud create a load balancer."""
    spec = r["inputs"].get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return []
    annotations = (r["inputs"].get("metadata") or {}).get("annotations") or {}
    cloud = ctx.cloud_of(r)
    if cloud == "aws":
        kind = annotations.get("service.beta.kubernetes.io/aws-load-balancer-type", "")
        if kind in ("nlb", "external"):
            return [_fixed("load-balancer-network", "network load balancer (Service)")]
        return [_fixed("load-balancer-classic", "classic load balancer (Service)")]
    if cloud == "azure":
        charges = [_fixed("load-balancer-standard", "standard load balancer (Service)")]
        if annotations.get("service.beta.kubernetes.io/azure-load-balancer-internal") != "true":
            charges.append(_fixed("public-ip-standard", "public IP address (Service)"))
        return charges
    if cloud == "gcp":
        return [_fixed("forwarding-rule", "forwarding rule (Service)")]
    raise CostError([f"{r['name']} ({r['type']}): cannot tell which cloud hosts this Service of type LoadBalancer"])


RULES: dict[str, Rule] = {
    # AWS
    "aws:eks/cluster:Cluster": lambda r, c: [_fixed("eks-control-plane", "EKS control plane")],
    "aws:eks/nodeGroup:NodeGroup": _eks_node_group,
    "aws:ec2/natGateway:NatGateway": lambda r, c: [_fixed("nat-gateway", "NAT gateway")],
    "aws:ec2/eip:Eip": lambda r, c: [_fixed("public-ipv4", "public IPv4 address")],
    "aws:ec2/vpnConnection:VpnConnection": _vpn_connection,
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": lambda r, c: [_fixed("tgw-attachment", "Transit Gateway attachment")],
    # A peering is an attachment on both Transit Gateways, and both are billed by the hour.
    "aws:ec2transitgateway/peeringAttachment:PeeringAttachment": lambda r, c: [
        _fixed("tgw-attachment", "Transit Gateway attachment")
    ],
    "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter": lambda r, c: [
        _fixed("tgw-attachment", "Transit Gateway attachment")
    ],
    "aws:kms/key:Key": lambda r, c: [_fixed("kms-key", "KMS key")],
    "aws:route53/healthCheck:HealthCheck": _route53_health_check,
    "aws:route53/zone:Zone": lambda r, c: [_fixed("route53-hosted-zone", "Route 53 hosted zone")],
    "aws:lb/loadBalancer:LoadBalancer": _aws_load_balancer,
    "aws:alb/loadBalancer:LoadBalancer": _aws_load_balancer,
    "aws:elb/loadBalancer:LoadBalancer": lambda r, c: [_fixed("load-balancer-classic", "classic load balancer")],
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:globalaccelerator/accelerator:Accelerator": lambda r, c: [_fixed("global-accelerator", "Global Accelerator")],
    # Azure
    "azure-native:containerservice:ManagedCluster": _aks_cluster,
    "azure-native:containerservice:AgentPool": lambda r, c: [_aks_pool_charge(r["inputs"])],
    "azure-native:network:VirtualNetworkGateway": lambda r, c: [
        _fixed(f"vpn-gateway-{_sku(r, 'Basic')}", f"VPN gateway {_sku(r, 'Basic')}")
    ],
    "azure-native:network:VirtualNetworkGatewayConnection": lambda r, c: [_fixed("vpn-s2s-tunnel", "VPN S2S connection")],
    "azure-native:network:NatGateway": lambda r, c: [_fixed("nat-gateway", "NAT gateway")],
    "azure-native:network:PublicIPAddress": lambda r, c: [
        _fixed(f"public-ip-{_sku(r, 'Basic').lower()}", "public IP address")
    ],
    "azure-native:keyvault:Key": _key_vault_key,
    "azure-native:containerregistry:Registry": lambda r, c: [
        _fixed(f"acr-{_sku(r, 'Basic').lower()}", f"container registry ({_sku(r, 'Basic')})")
    ],
    "azure-native:containerregistry:Replication": lambda r, c: [_fixed("acr-geo-replication", "registry geo-replication")],
    "azure-native:network:LoadBalancer": lambda r, c: [
        _fixed(f"load-balancer-{_sku(r, 'Basic').lower()}", "load balancer")
    ],
    "azure-native:network:PrivateEndpoint": lambda r, c: [_fixed("private-endpoint", "private endpoint")],
    "azure-native:privatedns:PrivateZone": lambda r, c: [_fixed("private-dns-zone", "private DNS zone")],
    "azure-native:dns:Zone": lambda r, c: [_fixed("dns-zone", "DNS zone")],
    "azure-native:trafficmanager:Endpoint": _traffic_manager_endpoint,
    # GCP
    "gcp:container/cluster:Cluster": _gke_cluster,
    "gcp:container/nodePool:NodePool": _gke_node_pool,
    "gcp:compute/vPNTunnel:VPNTunnel": lambda r, c: [_fixed("vpn-tunnel", "HA VPN tunnel")],
    "gcp:compute/routerNat:RouterNat": _cloud_nat,
    "gcp:kms/cryptoKey:CryptoKey": _gcp_crypto_key,
    "gcp:compute/forwardingRule:ForwardingRule": lambda r, c: [_fixed("forwarding-rule", "forwarding rule")],
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": lambda r, c: [_fixed("forwarding-rule", "forwarding rule")],
    "gcp:compute/address:Address": _gcp_address,
    "gcp:compute/globalAddress:GlobalAddress": _gcp_address,
    "gcp:dns/managedZone:ManagedZone": lambda r, c: [_fixed("cloud-dns-zone", "Cloud DNS zone")],
    # Kubernetes objects that make the hosting cloud bill something
    "kubernetes:core/v1:Service": _kubernetes_service,
}
DEFERRED = {"gcp:compute/routerNat:RouterNat"}
"""Rules that read other resources' charges (Cloud NAT bills per VM of its region's node pools)."""


@dataclass(frozen=True)
class Billing:
    free_packages: Mapping[str, str]
    usage: Mapping[str, str]
    free: Mapping[str, str]

    def classify(self, type_: str) -> str | None:
        """`priced`, `usage`, `free`, or None for a type nobody has classified."""
        if type_ in RULES:
            return "priced"
        if type_ in self.usage:
            return "usage"
        if type_ in self.free or type_.startswith("pulumi:providers:") or type_.split(":")[0] in self.free_packages:
            return "free"
        return None

    def why_not_included(self, type_: str) -> str:
        return self.usage[type_]


@lru_cache(maxsize=1)
def load_billing(path: Path = BILLING_PATH) -> Billing:
    document = yaml.safe_load(path.read_text())
    return Billing(document["free_packages"], document["usage"], document["free"])


class _Context:
    """Where each resource bills: its cloud and region, read from the plan the way the engine links it."""

    def __init__(self, resources: list[dict[str, Any]]):
        self.by_urn = {r["urn"]: r for r in resources}
        self._vms: dict[str, tuple[float, float]] = {}

    def _nearest(self, r: dict[str, Any], accept: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """The closest resource (breadth first over provider and dependencies) that `accept`s."""
        seen, frontier = {r["urn"]}, [r["urn"]]
        while frontier:
            following: list[str] = []
            for urn in frontier:
                current = self.by_urn[urn]
                # Dependencies first; the provider last (a Kubernetes provider leads to its cluster,
                # but a cloud provider's default region says nothing about where a resource is).
                links = sorted(current["dependencies"]) + ([current["provider"]] if current.get("provider") else [])
                for link in links:
                    if link in seen or link not in self.by_urn:
                        continue
                    seen.add(link)
                    candidate = self.by_urn[link]
                    if not candidate["type"].startswith("pulumi:providers:") and accept(candidate):
                        return candidate
                    following.append(link)
            frontier = following
        return None

    def cloud_of(self, r: dict[str, Any]) -> str | None:
        """The cloud that bills `r`: its own, or for a Kubernetes object the cloud of its cluster."""
        if r["cloud"] in HOSTING_CLOUDS:
            return r["cloud"]
        host = self._nearest(r, lambda c: c["custom"] and c["cloud"] in HOSTING_CLOUDS and c["region"] is not None)
        return host["cloud"] if host else None

    def region_key(self, r: dict[str, Any]) -> str:
        """`cloud:region` where `r` bills: its own region, else that of the nearest resource it is
        built on (a Key Vault key bills where its vault is), else `global`."""
        cloud = self.cloud_of(r)
        if cloud is None:
            return GLOBAL
        if r["region"]:
            return f"{cloud}:{r['region']}"
        host = self._nearest(r, lambda c: c["custom"] and c["cloud"] == cloud and c["region"] is not None)
        return f"{cloud}:{host['region']}" if host else GLOBAL

    def add_vms(self, region_key: str, bounds: tuple[float, float]) -> None:
        low, high = self._vms.get(region_key, (0, 0))
        self._vms[region_key] = (low + bounds[0], high + bounds[1])

    def vms(self, region_key: str) -> tuple[float, float]:
        return self._vms.get(region_key, (0, 0))


@dataclass
class _Line:
    item: str
    description: str
    quote: Quote
    quantity: list[float]
    resources: list[str]


def _money(value: float) -> float:
    return round(value + 0.0, 2)


def _charges(plan: Mapping[str, Any], billing: Billing) -> Iterator[tuple[str, str, dict[str, Any], Charge]]:
    """(region key, cloud, resource, charge) for every charge of the plan, deferred rules last."""
    custom = [r for r in plan["resources"] if r["custom"] and not r["type"].startswith("pulumi:providers:")]
    unclassified = sorted({r["type"] for r in custom if billing.classify(r["type"]) is None})
    if unclassified:
        raise CostError([
            f"resource type {t} is neither priced (planning/cost.py RULES) nor listed as free or usage-billed "
            "(planning/data/billing.yaml)" for t in unclassified
        ])
    ctx = _Context(plan["resources"])
    priced = [r for r in custom if r["type"] in RULES]
    for r in sorted(priced, key=lambda r: (r["type"] in DEFERRED, r["urn"])):
        region = ctx.region_key(r)
        cloud = ctx.cloud_of(r) or "-"
        for charge in RULES[r["type"]](r, ctx):
            if charge.spot is not None:
                ctx.add_vms(region, charge.quantity)
            yield region, cloud, r, charge


def estimate(plan: Mapping[str, Any], catalogue: Catalogue, billing: Billing | None = None) -> dict[str, Any]:
    """The monthly estimate of a plan JSON, per region and per line item (see the README's cost
    JSON format). Raises CostError listing every unclassified type and every missing price."""
    billing = billing or load_billing()
    lines: dict[str, dict[tuple[str, str], _Line]] = defaultdict(dict)
    problems: list[str] = []
    for region, cloud, r, charge in _charges(plan, billing):
        name = region.split(":", 1)[1] if ":" in region else GLOBAL
        try:
            if charge.spot is None:
                quote = catalogue.item(cloud, name, charge.item)
            else:
                quote = catalogue.node(cloud, name, charge.item, charge.spot)
        except PriceError as error:
            problems.extend(f"{p} (needed by {r['name']}, {r['type']})" for p in error.problems)
            continue
        line = lines[region].setdefault(
            (charge.item, charge.description), _Line(charge.item, charge.description, quote, [0, 0], [])
        )
        line.quantity[0] += charge.quantity[0]
        line.quantity[1] += charge.quantity[1]
        if r["name"] not in line.resources:
            line.resources.append(r["name"])
    if problems:
        raise CostError(sorted(set(problems)))

    hours = catalogue.hours_per_month
    regions: dict[str, Any] = {}
    dates: set[str] = set()
    for region in sorted(lines, key=lambda k: (k == GLOBAL, k)):
        rows = []
        for line in lines[region].values():
            per_unit = line.quote.price * (hours if line.quote.unit == "hour" else 1)
            rows.append({
                "item": line.item,
                "description": line.description,
                "unit": line.quote.unit,
                "unit_price": round(line.quote.price, 6),
                "quantity": {"min": line.quantity[0], "max": line.quantity[1]},
                "monthly": {"min": _money(per_unit * line.quantity[0]), "max": _money(per_unit * line.quantity[1])},
                "resources": sorted(line.resources),
                "source": line.quote.source,
                "date": line.quote.date,
            })
            if not line.quote.source.startswith("stack config"):
                dates.add(line.quote.date)
        rows.sort(key=lambda row: (-row["monthly"]["max"], row["item"], row["description"]))
        regions[region] = {"monthly": _total(rows), "lines": rows}
    usage = Counter(
        r["type"] for r in plan["resources"]
        if r["custom"] and billing.classify(r["type"]) == "usage"
    )
    return {
        "stack": plan.get("stack"),
        "currency": catalogue.currency,
        "hours_per_month": hours,
        "catalogue_date": min(dates) if dates else None,
        "monthly": _total(regions.values()),
        "regions": regions,
        "not_included": [
            {"type": t, "count": n, "billed_by": billing.why_not_included(t)} for t, n in sorted(usage.items())
        ],
    }


def _total(parts: Any) -> dict[str, float]:
    parts = list(parts)
    return {
        "min": _money(sum(p["monthly"]["min"] for p in parts)),
        "max": _money(sum(p["monthly"]["max"] for p in parts)),
    }


# --- a change's delta -------------------------------------------------------------------------------


def compare(base: Mapping[str, Any], head: Mapping[str, Any]) -> dict[str, Any]:
    """What a change does to the monthly cost: per region, the line items that differ."""
    regions: dict[str, Any] = {}
    for region in sorted(set(base["regions"]) | set(head["regions"]), key=lambda k: (k == GLOBAL, k)):
        before = {(line["item"], line["description"]): line for line in base["regions"].get(region, {}).get("lines", [])}
        after = {(line["item"], line["description"]): line for line in head["regions"].get(region, {}).get("lines", [])}
        changed = []
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key), after.get(key)
            old_monthly = old["monthly"] if old else {"min": 0.0, "max": 0.0}
            new_monthly = new["monthly"] if new else {"min": 0.0, "max": 0.0}
            delta = {k: _money(new_monthly[k] - old_monthly[k]) for k in ("min", "max")}
            if delta == {"min": 0.0, "max": 0.0} and (old and new) and old["quantity"] == new["quantity"]:
                continue
            changed.append({
                "item": key[0],
                "description": key[1],
                "base": old_monthly if old else None,
                "head": new_monthly if new else None,
                "delta": delta,
            })
        changed.sort(key=lambda line: (-abs(line["delta"]["max"]), line["description"]))
        if changed:
            regions[region] = {"delta": _delta_total(changed), "lines": changed}
    return {
        "base": {"stack": base.get("stack"), "catalogue_date": base.get("catalogue_date"), "monthly": base["monthly"]},
        "head": {"stack": head.get("stack"), "catalogue_date": head.get("catalogue_date"), "monthly": head["monthly"]},
        "delta": {k: _money(head["monthly"][k] - base["monthly"][k]) for k in ("min", "max")},
        "regions": regions,
    }


def _delta_total(lines: list[dict[str, Any]]) -> dict[str, float]:
    return {k: _money(sum(line["delta"][k] for line in lines)) for k in ("min", "max")}


# --- renderings ---------------------------------------------------------------------------------------


def _amount(value: float, signed: bool = False) -> str:
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


def _range(monthly: Mapping[str, float], signed: bool = False) -> str:
    if monthly["min"] == monthly["max"]:
        return _amount(monthly["min"], signed)
    return f"{_amount(monthly['min'], signed)} .. {_amount(monthly['max'], signed)}"


def _quantity(quantity: Mapping[str, float]) -> str:
    low, high = (f"{q:g}" for q in (quantity["min"], quantity["max"]))
    return low if low == high else f"{low}..{high}"


def render_text(estimate_: Mapping[str, Any]) -> str:
    currency = estimate_["currency"]
    lines = [
        f"Monthly cost of stack {estimate_['stack']}: {_range(estimate_['monthly'])} {currency}"
        " (GPU and system node pools at their minimum .. maximum size)",
        f"Prices: planning/data/prices.yaml as of {estimate_['catalogue_date']} (list prices; "
        f"{estimate_['hours_per_month']} hours a month), with the stack's prices overrides",
        "",
    ]
    for region, part in estimate_["regions"].items():
        lines.append(f"{region}: {_range(part['monthly'])} {currency}/month")
        for row in part["lines"]:
            lines.append(
                f"  {row['description']:<46} {_quantity(row['quantity']):>7} x {row['unit_price']:>10,.4f}/{row['unit']:<5}"
                f" {_range(row['monthly']):>24}"
            )
        lines.append("")
    if estimate_["not_included"]:
        lines.append("Not included (billed by usage):")
        for entry in estimate_["not_included"]:
            lines.append(f"  {entry['type']} x{entry['count']}: {entry['billed_by']}")
    return "\n".join(lines).rstrip() + "\n"


def render_delta_text(delta: Mapping[str, Any]) -> str:
    lines = [
        f"Cost change ({delta['base']['stack']} -> {delta['head']['stack']}): "
        f"{_range(delta['delta'], signed=True)} a month "
        f"(from {_range(delta['base']['monthly'])} to {_range(delta['head']['monthly'])})",
    ]
    if not delta["regions"]:
        lines.append("  no line item changes")
    for region, part in delta["regions"].items():
        lines.append(f"{region}: {_range(part['delta'], signed=True)}")
        for row in part["lines"]:
            was = _range(row["base"]) if row["base"] else "-"
            now = _range(row["head"]) if row["head"] else "-"
            lines.append(f"  {row['description']:<46} {was:>22} -> {now:<22} {_range(row['delta'], signed=True)}")
    return "\n".join(lines) + "\n"


def render_markdown(estimate_: Mapping[str, Any], delta: Mapping[str, Any] | None = None) -> str:
    """The estimate (and a change's delta) as a PR comment."""
    currency = estimate_["currency"]
    out = [f"### Monthly cost of `{estimate_['stack']}`: {_range(estimate_['monthly'])} {currency}", ""]
    if delta is not None:
        out += [f"**Change: {_range(delta['delta'], signed=True)} {currency}/month** "
                f"(was {_range(delta['base']['monthly'])})", ""]
        if delta["regions"]:
            out += ["| region | line item | before | after | change |", "|---|---|---:|---:|---:|"]
            for region, part in delta["regions"].items():
                for row in part["lines"]:
                    was = _range(row["base"]) if row["base"] else "-"
                    now = _range(row["head"]) if row["head"] else "-"
                    out.append(f"| {region} | {row['description']} | {was} | {now} | {_range(row['delta'], signed=True)} |")
            out.append("")
    out += ["| region | min | max |", "|---|---:|---:|"]
    for region, part in estimate_["regions"].items():
        out.append(f"| {region} | {_amount(part['monthly']['min'])} | {_amount(part['monthly']['max'])} |")
    out.append(f"| **total** | **{_amount(estimate_['monthly']['min'])}** | **{_amount(estimate_['monthly']['max'])}** |")
    out += ["", "<details><summary>Line items</summary>", "",
            "| region | line item | quantity | unit price | monthly |", "|---|---|---:|---:|---:|"]
    for region, part in estimate_["regions"].items():
        for row in part["lines"]:
            out.append(f"| {region} | {row['description']} | {_quantity(row['quantity'])} | "
                       f"{row['unit_price']:,.4f}/{row['unit']} | {_range(row['monthly'])} |")
    out += ["", "</details>", ""]
    excluded = ", ".join(f"`{e['type']}`" for e in estimate_["not_included"])
    out.append(
        f"Node pools at their minimum and maximum size; list prices from `planning/data/prices.yaml` as of "
        f"{estimate_['catalogue_date']}, {estimate_['hours_per_month']} hours a month. "
        + (f"Not included (billed by usage): {excluded}." if excluded else "")
    )
    return "\n".join(out).rstrip() + "\n"
