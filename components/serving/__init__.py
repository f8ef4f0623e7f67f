"""Serving: the registries, the inference image, and Triton in every region rolled out wave by wave.

`registries` (where the image lives, per cloud), `image` (built once, deployed by digest), `triton`
(one region's Deployment, Service, PodDisruptionBudget and the gate its successors wait for). The
platform wires them; the decisions (waves, deployer access, Triton's resources) are in `planning/`.
"""
