"""The offline preview: evaluate a stack with Pulumi's own mock engine, without the CLI or a cloud.

`engine` runs the program and records every registration (`lean` keeps that cheap); `plan` turns
the record into the documented plan JSON; `policy_check` applies the policy pack; `report` prints a
plan for people. The command line (`__main__`, `cli`) is one module per verb: `preview`, `check`,
`policy_config`, `diff`, `stacks`, `schema`.
"""
