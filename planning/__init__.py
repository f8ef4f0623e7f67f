"""Pure planning logic: no Pulumi calls here, only data in and data out.

Components turn these plans into resources; tests exercise the plans directly.
"""
