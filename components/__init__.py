"""Component resources: each turns a plan from `planning/` into one concern's cloud resources."""
