"""Declared stub repositories: the manifest, the generator, drift, the fabrication log and the `stubs` gate.

``manifest`` loads and validates the YAML; ``generator`` renders it to files
(pure) and writes them; ``fabrication`` reads what the dynamic hook logged;
``gate`` turns all of it into the ``stubs`` check result.
"""
