"""evaluate modules shipped with fac-datasets: one folder `<name>/` with `<name>.py` and a card each.

Installed as `fac_datasets.metrics`; `import fac_datasets` makes each loadable by bare name.
"""
