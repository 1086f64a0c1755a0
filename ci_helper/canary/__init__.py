"""The canary self-test: prove that every gate bites.

Every gate ships fixtures as package data under ``ci_helper/fixtures/<gate>/``;
a fixture is a folder holding a ``canary.json`` case file (see
:mod:`ci_helper.canary.cases`). ``ci-helper canary`` copies each fixture into a
temporary folder, runs the gate on it exactly as a user would (the real CLI in
a subprocess, offline), reads the check result it wrote, and compares the
status with the expectation. A gate that passes its bad fixture did not bite;
a gate that fails its good fixture bites the innocent; a gate with no bad
fixture has never been seen to bite at all. All three make the canary red.
"""
