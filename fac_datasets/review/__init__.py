"""Human review in Argilla: a local server stack, review datasets pushed to it, responses pulled back.

One module per job: `stack` starts and stops the local server (`install` builds its venv and
system packages, `engine_shim` runs inside it), `connection` reaches any server, `schemas` says
what each review dataset asks, `records` turns local rows into records, `push` and `pull` move
them, `agreement` compares humans with the suggestions. Nothing here runs at import time and
nothing below this stage imports it; the argilla SDK is imported only where a server is used.
"""
