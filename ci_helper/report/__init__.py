"""The CI run report (``ci-helper report``): renderers over typed audit data."""
