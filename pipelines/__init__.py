"""distilabel adapters over fac_datasets: an `LLM` over the shared `Generator`, synthesis steps, builders.

Installed as `fac_datasets.pipelines` (needs the `distilabel` extra). Importing this package does not
import distilabel; the modules do.
"""
