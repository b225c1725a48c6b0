"""Coverage: FAC of current data against an anchor, the evaluate-facing `measure_fac`, and reports."""
