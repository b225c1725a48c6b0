"""Coverage: FAC of current data against an anchor, `measure()` (the one path of CLI, API and evaluate), reports."""
