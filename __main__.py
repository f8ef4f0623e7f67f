"""Entry point for `pulumi up` / `pulumi preview`: settings -> platform -> outputs."""

import pulumi

from components.platform import Platform
from settings import CONFIG_KEY, load_settings

settings = load_settings(pulumi.Config().require_object(CONFIG_KEY))
platform = Platform(settings.name, settings)

pulumi.export("region_cidrs", platform.region_cidrs())
pulumi.export("regions", platform.regions())
pulumi.export("kubeconfigs", platform.kubeconfigs())
