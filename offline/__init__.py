"""The offline preview: evaluate a stack with Pulumi's own mock engine, without the CLI or a cloud.

`engine` runs the program and records every registration; `plan` turns the record into the
documented plan JSON; `report` prints it for people; `__main__` is the command line.
"""
