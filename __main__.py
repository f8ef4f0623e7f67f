"""Entry point for `pulumi up` / `pulumi preview`: settings -> platform -> outputs."""

import pulumi
from pulumi.runtime import config as runtime_config

from components.platform import Platform
from settings import CONFIG_KEY, ConfigError, load_settings

# Every config key of the stack, so a misspelt `multicloud-inference:platfrom` is named, not ignored.
config_keys = {*runtime_config.get_config_env(), *runtime_config.CONFIG.get()}
try:
    settings = load_settings(pulumi.Config().get_object(CONFIG_KEY), config_keys)
except ConfigError as error:
    # RunError prints the message alone: every bad key, no Python traceback, nothing declared.
    raise pulumi.RunError(str(error)) from None

platform = Platform(settings.name, settings)

pulumi.export("region_cidrs", platform.region_cidrs())
pulumi.export("regions", platform.regions())
pulumi.export("kubeconfigs", platform.kubeconfigs())
pulumi.export("image", {"digest": platform.image.digest, "tag": platform.image.tag, "mode": settings.image.mode})
pulumi.export("rollout_waves", [list(wave) for wave in platform.plan.waves])
pulumi.export("model_replication", platform.plan.replication.output())
if platform.global_entry is not None:
    pulumi.export("global_entry", platform.global_entry.table)
