"""Which features count: anchor support, given ids, enrichment (reference or contrast), a catalog + task.

`resolve()` is the one decision every entry point (CLI, Python API, evaluate module, synthesis) calls.
"""
