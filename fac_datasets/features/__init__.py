"""Texts -> SAE features: spec resolution (model + SAE), backbone, extractor (pooling), the
`datasets.map` annotator, flat feature rows and mergeable feature counts.

Submodules import torch; this package file does not, so `import fac_datasets` stays light.
"""
