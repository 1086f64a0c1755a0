"""verify's precision on real repositories: findings per rule and a reproducible sample to judge by hand.

    python benchmarks/verify_corpus.py CORPUS_DIR [--sample 20] [--seed 16]

CORPUS_DIR holds one folder per repository of benchmarks/corpus.txt (``owner+name``), each with the
repository's ``.github/`` at the listed commit, e.g.::

    git --git-dir=<bare clone> archive <commit> .github | tar -x -C CORPUS_DIR/owner+name

Never inside this repository: only the script and the list are committed. Prints findings per rule and, per
rule, a seeded random sample (file:line, message) to judge by reading the YAML; docs/verify.md records the
judgement.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

from ci_helper.errors import BadInput
from ci_helper.rules import run_rules
from ci_helper.settings import Settings

LIST = Path(__file__).with_name("corpus.txt")


def repositories() -> list[tuple[str, str]]:
    out = []
    for line in LIST.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, commit = line.split()
            out.append((name, commit))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    per_rule: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    files = 0
    for name, _commit in repositories():
        folder = args.corpus / name.replace("/", "+")
        if not folder.is_dir():
            print(f"{folder}: missing; extract {name}'s .github/ there first", file=sys.stderr)
            return 2
        try:
            report = run_rules(folder, Settings())
        except BadInput as exc:
            print(f"{name}: {exc.message}", file=sys.stderr)
            continue
        files += report.files
        for f in report.findings:
            per_rule[f.rule].append((f"{name}:{f.file}:{f.line}", f"[{f.severity}] {f.message}"))
    print(f"{files} files in {len(repositories())} repositories")
    rng = random.Random(args.seed)
    for rule in sorted(per_rule):
        found = per_rule[rule]
        print(f"\n## {rule}: {len(found)} findings")
        sample = found if len(found) <= args.sample else rng.sample(found, args.sample)
        for where, message in sample:
            print(f"- {where}  {message[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
