"""AWS landing zone: VPC with private subnets across zones behind NAT, a KMS key with rotation, and
an S3 model bucket encrypted with that key (versioned, public access blocked, TLS only).

Subnets are placed by availability zone *ID* (`use1-az1`), which names the same physical zone in
every account, and named after it (`private-az1`), so they never move between accounts or runs."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from pulumi_aws import ec2, kms, s3

from components.landing_zone import LandingZoneArgs, protected
from planning.addressing import RegionSubnets
from planning.regions import zone_label


@dataclass(frozen=True, kw_only=True)
class AwsLandingZoneArgs(LandingZoneArgs):
    subnets: RegionSubnets
    """The region's planned subnets: a private and a public one per availability zone ID."""


class AwsLandingZone(pulumi.ComponentResource):
    vpc: ec2.Vpc
    private_subnets: list[ec2.Subnet]
    private_route_tables: list[ec2.RouteTable]
    key: kms.Key
    bucket: s3.Bucket

    def __init__(self, name: str, args: AwsLandingZoneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:AwsLandingZone", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        tags = args.tags
        plan = args.subnets

        self.vpc = ec2.Vpc(
            f"{name}-vpc",
            cidr_block=str(plan.address_space),
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": f"{name}-vpc"},
            opts=child,
        )
        igw = ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={**tags, "Name": f"{name}-igw"}, opts=child
        )
        public_routes = ec2.RouteTable(
            f"{name}-public",
            vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags={**tags, "Name": f"{name}-public"},
            opts=child,
        )

        self.private_subnets, self.private_route_tables = [], []
        self.egress_ips: list[pulumi.Output[str]] = []
        """The region's public egress addresses (its NAT gateways): what allow-lists elsewhere admit."""
        for subnet in plan.named("public-"):
            zone = zone_label(subnet.zone)
            public = ec2.Subnet(
                f"{name}-{subnet.name}",
                vpc_id=self.vpc.id,
                cidr_block=str(subnet.cidr),
                availability_zone_id=subnet.zone,
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-{subnet.name}", "kubernetes.io/role/elb": "1"},
                opts=child,
            )
            ec2.RouteTableAssociation(
                f"{name}-{subnet.name}", subnet_id=public.id, route_table_id=public_routes.id, opts=child
            )
            # One NAT gateway per zone: a zone outage must not cut the other zones' egress.
            # AWS: an EIP for a NAT gateway and the public NAT gateway itself need the VPC's internet
            # gateway attached first.
            after_igw = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[igw]))
            eip = ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags=tags, opts=after_igw)
            self.egress_ips.append(eip.public_ip)
            nat = ec2.NatGateway(
                f"{name}-nat-{zone}",
                subnet_id=public.id,
                allocation_id=eip.allocation_id,
                tags={**tags, "Name": f"{name}-nat-{zone}"},
                opts=after_igw,
            )
            private_name = f"private-{zone}"
            private = ec2.Subnet(
                f"{name}-{private_name}",
                vpc_id=self.vpc.id,
                cidr_block=str(plan.subnet(private_name).cidr),
                availability_zone_id=subnet.zone,
                tags={**tags, "Name": f"{name}-{private_name}", "kubernetes.io/role/internal-elb": "1"},
                opts=child,
            )
            # Routes as separate resources, not inline: the VPN mesh adds its own route to these
            # tables, and inline routes would delete any route they do not list.
            private_routes = ec2.RouteTable(
                f"{name}-{private_name}",
                vpc_id=self.vpc.id,
                tags={**tags, "Name": f"{name}-{private_name}"},
                opts=child,
            )
            ec2.Route(
                f"{name}-{private_name}-egress",
                route_table_id=private_routes.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=child,
            )
            ec2.RouteTableAssociation(
                f"{name}-{private_name}", subnet_id=private.id, route_table_id=private_routes.id, opts=child
            )
            self.private_subnets.append(private)
            self.private_route_tables.append(private_routes)

        self.key = kms.Key(
            f"{name}-key",
            description=f"{name}: model bucket and cluster secrets",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=30,
            tags=tags,
            opts=protected(args, self, provider=args.provider),
        )
        kms.Alias(f"{name}-key", name=f"alias/{name}", target_key_id=self.key.key_id, opts=child)

        self.bucket = s3.Bucket(
            f"{name}-models", force_destroy=False, tags=tags, opts=protected(args, self, provider=args.provider)
        )
        s3.BucketOwnershipControls(
            f"{name}-models",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        s3.BucketPublicAccessBlock(
            f"{name}-models",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        # Replication needs versioning on both ends: it waits for this.
        self.versioning = s3.BucketVersioning(
            f"{name}-models",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        s3.BucketServerSideEncryptionConfiguration(
            f"{name}-models",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": self.key.arn,
                    },
                    # Bucket keys cut KMS request costs for model downloads by orders of magnitude.
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        s3.BucketPolicy(
            f"{name}-models-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(_deny_insecure_transport),
            opts=child,
        )
        self.model_store_url = pulumi.Output.concat("s3://", self.bucket.bucket)
        """Where this region's inference pods read models (the image's MODEL_STORE_URL)."""
        self.register_outputs(
            {"vpc_id": self.vpc.id, "key_arn": self.key.arn, "model_store_url": self.model_store_url}
        )


def _deny_insecure_transport(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "DenyTlsOlderThan12",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
                },
            ],
        }
    )
