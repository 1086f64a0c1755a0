"""The coverage gate: one analysis of the combined data, many results.

- :mod:`.inputs` finds, reads and combines the data files (``[paths]`` remapping);
- :mod:`.analysis` analyses every source file once, in parallel processes;
- :mod:`.diff` reads the changed lines from git;
- :mod:`.gate` derives the total, per-file and changed-lines figures and the check result;
- :mod:`.json_report` and :mod:`.markdown` render that one result;
- :mod:`.annotations` points at uncovered changed lines in GitHub Actions.
"""
