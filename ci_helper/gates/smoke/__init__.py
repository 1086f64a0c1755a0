"""The smoke tier: start a server, wait until it is ready, run the smoke tests, stop it, record.

Modules, one concern each:

- ``command``: the server command line (no shell; optional ``coverage run``)
- ``coverage_rc``: the server's rcfile (the project's coverage config + ``sigterm = true``)
- ``process``: the server in its own process group, its log, the stop ladder
- ``probes``: readiness probes, one module per URL kind (``http``, ``tcp``)
- ``readiness``: polling with backoff that notices a dead server at once
- ``ports``: is the port taken before we start?
- ``pytest_run``: pytest with our JUnit file and ``CI_HELPER_BASE_URL``
- ``stop_request``: the POST to the stop URL
- ``lifecycle``: one run, start to stop
- ``result``: the ``smoke`` check result
"""
