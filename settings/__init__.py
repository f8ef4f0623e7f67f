"""The stack's settings: one pydantic model over the structured config `multicloud-inference:platform`.

`load_settings` validates everything before a single resource is declared and reports every problem
together, each naming its key path. `base` holds what every part shares (key paths, error wording);
`model` the platform's own settings; each later concern (serving, global entry, replication,
autoscaling, prices) adds one module here with its model and its semantic checks.
"""

from settings.base import CONFIG_KEY, KEY_ROOT, PROJECT, ConfigError, StrictModel, key_path
from settings.model import (
    AwsSpec,
    AzureSpec,
    CloudSpec,
    GcpSpec,
    GpuOverride,
    GpuRequest,
    KubernetesSettings,
    NetworkSettings,
    RegionSpec,
    Settings,
    load_settings,
)

__all__ = [
    "CONFIG_KEY", "KEY_ROOT", "PROJECT", "AwsSpec", "AzureSpec", "CloudSpec", "ConfigError", "GcpSpec",
    "GpuOverride", "GpuRequest", "KubernetesSettings", "NetworkSettings", "RegionSpec", "Settings",
    "StrictModel", "key_path", "load_settings",
]
