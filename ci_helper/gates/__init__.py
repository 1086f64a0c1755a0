"""Gates: guard, stubs, smoke, coverage, audit, deps. Each produces a check result."""
