"""GCP landing zone. The VPC is global (one per stack, `GcpNetwork`); each region adds a
subnetwork with GKE secondary ranges, Cloud NAT, a key ring and rotating key in the region, and a
GCS model bucket encrypted with that key (uniform access, public access prevention, versioning)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute, kms, storage

from components.landing_zone import LandingZoneArgs, protected
from planning.addressing import gcp_subnets

KEY_ROTATION_PERIOD = "7776000s"
"""90 days: GCP rotates the primary version; old versions stay to decrypt existing objects."""


class GcpNetwork(pulumi.ComponentResource):
    """The stack's one global VPC. Global dynamic routing lets the hub's Cloud Router announce
    every region's subnet over the VPN mesh."""

    network: compute.Network

    def __init__(self, name: str, provider: pulumi.ProviderResource, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:GcpNetwork", name, None, opts)
        self.network = compute.Network(
            f"{name}-vpc",
            auto_create_subnetworks=False,
            routing_mode="GLOBAL",
            delete_default_routes_on_create=False,
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        # The service agent that encrypts GCS objects; it exists per project and must be allowed
        # to use each region's key before a bucket can name that key.
        self.storage_agent_email = storage.get_project_service_account_output(
            opts=pulumi.InvokeOutputOptions(provider=provider, parent=self)
        ).email_address
        self.register_outputs({"network_id": self.network.id})


@dataclass(frozen=True, kw_only=True)
class GcpLandingZoneArgs(LandingZoneArgs):
    network: GcpNetwork


class GcpLandingZone(pulumi.ComponentResource):
    subnetwork: compute.Subnetwork
    crypto_key: kms.CryptoKey
    bucket: storage.Bucket

    def __init__(self, name: str, args: GcpLandingZoneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:GcpLandingZone", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        plan = gcp_subnets(args.cidr)
        region, labels = args.region, args.tags

        self.subnetwork = compute.Subnetwork(
            f"{name}-nodes",
            network=args.network.network.id,
            region=region,
            ip_cidr_range=str(plan.subnet("nodes").cidr),
            secondary_ip_ranges=[
                {"range_name": "pods", "ip_cidr_range": str(plan.pod_cidr)},
                {"range_name": "services", "ip_cidr_range": str(plan.service_cidr)},
            ],
            private_ip_google_access=True,
            log_config={"aggregation_interval": "INTERVAL_5_MIN", "flow_sampling": 0.5},
            opts=child,
        )
        router = compute.Router(
            f"{name}-nat", network=args.network.network.id, region=region, opts=child
        )
        # A reserved address rather than automatic ones: allow-lists elsewhere (the registry's, a
        # partner's) can name the region's egress, and it survives NAT changes.
        nat_address = compute.Address(f"{name}-nat", region=region, address_type="EXTERNAL", labels=labels, opts=child)
        self.egress_ips = [nat_address.address]
        """The region's public egress address (Cloud NAT): what allow-lists elsewhere admit."""
        compute.RouterNat(
            f"{name}-nat",
            router=router.name,
            region=region,
            nat_ip_allocate_option="MANUAL_ONLY",
            nat_ips=[nat_address.self_link],
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[
                {"name": self.subnetwork.id, "source_ip_ranges_to_nats": ["ALL_IP_RANGES"]}
            ],
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=child,
        )

        key_ring = kms.KeyRing(f"{name}-keys", location=region, opts=protected(args, self, provider=args.provider))
        self.crypto_key = kms.CryptoKey(
            f"{name}-models",
            key_ring=key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=KEY_ROTATION_PERIOD,
            labels=labels,
            opts=protected(args, self, provider=args.provider),
        )
        agent_access = kms.CryptoKeyIAMMember(
            f"{name}-storage-agent",
            crypto_key_id=self.crypto_key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=pulumi.Output.concat("serviceAccount:", args.network.storage_agent_email),
            opts=child,
        )
        self.bucket = storage.Bucket(
            f"{name}-models",
            location=region.upper(),
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            encryption={"default_kms_key_name": self.crypto_key.id},
            force_destroy=False,
            labels=labels,
            opts=protected(args, self, provider=args.provider, depends_on=[agent_access]),
        )
        self.model_store_url = pulumi.Output.concat("gs://", self.bucket.name)
        """Where this region's inference pods read models (the image's MODEL_STORE_URL)."""
        self.register_outputs(
            {"subnetwork_id": self.subnetwork.id, "crypto_key_id": self.crypto_key.id, "model_store_url": self.model_store_url}
        )
