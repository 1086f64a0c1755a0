"""Summary rendering for 100,000 JUnit test cases vs a plain ElementTree parse of the same file.

Usage: python benchmarks/summary_bench.py [--cases N] [--repeat R]

Generates a pytest-shaped JUnit file (1% failures with a realistic traceback,
0.5% skipped, 0.2% flaky reruns), then in one run measures, each in a fresh
child process so that nothing is shared or cached between them:

- ``ElementTree``: ``xml.etree.ElementTree.parse(file)`` and nothing else;
- ``ci-helper summary``: parse (streaming), verdict, and render both the job
  summary (<= 1 MiB) and the PR comment (<= 65,536 characters).

Time is the median wall time of the work inside the child (imports excluded
for both: Jinja2 and template compilation are counted in the summary's time
because they happen in the rendering call). Memory is measured in separate
child runs: the tracemalloc peak of the work, and the child's max RSS.
Goals: ci-helper at most 2x ElementTree's time and 0.5x its memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from xml.sax.saxutils import escape, quoteattr

TRACEBACK = (
    """def test_txt2img_{i}(client):
        response = client.post("/sdapi/v1/txt2img", json={{"prompt": "a cat", "steps": 20}})
>       assert response.status_code == 200
E       AssertionError: assert 500 == 200
E        +  where 500 = <Response [500]>.status_code

tests/quality/test_api_{m}.py:{line}: AssertionError
"""
    + "E   "
    + "x" * 1500
    + "\n"
)


def generate(path: str, cases: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests">'
            f'<testsuite name="pytest" errors="0" failures="{cases // 100}" skipped="{cases // 200}" tests="{cases}" time="812.4">\n'
        )
        for i in range(cases):
            m = i // 500
            head = (
                f'<testcase classname="tests.quality.test_api_{m}" name="test_case_{i}[param-{i % 7}]" '
                f'file="tests/quality/test_api_{m}.py" line="{i % 500}" time="0.{i % 997:03d}"'
            )
            if i % 100 == 42:
                body = escape(TRACEBACK.format(i=i, m=m, line=i % 500 + 3))
                out.write(
                    f"{head}><failure message={quoteattr('AssertionError: assert 500 == 200')}>{body}</failure></testcase>\n"
                )
            elif i % 200 == 7:
                out.write(
                    f'{head}><skipped type="pytest.skip" message="no GPU">tests/quality/test_gpu.py:5: no GPU</skipped></testcase>\n'
                )
            elif i % 500 == 11:
                out.write(f'{head}><rerun message="ReadTimeout">timeout</rerun></testcase>\n')
            else:
                out.write(head + " />\n")
        out.write("</testsuite></testsuites>\n")


def work(kind: str, path: str) -> dict:
    if kind == "etree":
        import xml.etree.ElementTree as ET

        def run() -> object:
            return ET.parse(path)
    else:

        def run() -> object:
            from ci_helper.summary import model, render

            r = model.load(None, [path], "bench")
            md = render.render_markdown(r)
            comment = render.render_comment(r)
            assert len(md.text.encode("utf-8")) < 1_048_576 and len(comment.text) <= 65_536
            return {
                "summary_bytes": len(md.text.encode("utf-8")),
                "summary_trimmed": md.trimmed,
                "comment_chars": len(comment.text),
                "comment_trimmed": comment.trimmed,
            }

    return {"run": run}


def child(kind: str, path: str, mode: str) -> None:
    fn = work(kind, path)["run"]
    if mode == "time":
        start = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "sizes": out if isinstance(out, dict) else None}))
    else:
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"peak": peak, "rss": rss_kb * 1024}))


def measure(kind: str, path: str, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, path, mode], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "junit.xml")
        generate(path, args.cases)
        size = os.path.getsize(path)
        rows = {}
        for kind in ("etree", "summary"):
            timed = [measure(kind, path, "time") for _ in range(args.repeat)]
            mem = measure(kind, path, "memory")
            rows[kind] = {
                "seconds": statistics.median(t["seconds"] for t in timed),
                "peak": mem["peak"],
                "rss": mem["rss"],
                "sizes": timed[0]["sizes"],
            }
    et, s = rows["etree"], rows["summary"]
    print(
        f"JUnit file: {args.cases:,} test cases, {size / 1e6:.1f} MB; median of {args.repeat} runs each; python {sys.version.split()[0]}"
    )
    print()
    print("| | wall time (s) | tracemalloc peak (MB) | child max RSS (MB) |")
    print("|---|---:|---:|---:|")
    print(f"| `ElementTree.parse` | {et['seconds']:.3f} | {et['peak'] / 1e6:.1f} | {et['rss'] / 1e6:.1f} |")
    print(
        f"| `ci-helper summary` (parse + job summary + comment) | {s['seconds']:.3f} | {s['peak'] / 1e6:.1f} | {s['rss'] / 1e6:.1f} |"
    )
    print(
        f"| ratio (goal <= 2x time, <= 0.5x memory) | {s['seconds'] / et['seconds']:.2f}x | {s['peak'] / et['peak']:.2f}x | {s['rss'] / et['rss']:.2f}x |"
    )
    sizes = s["sizes"]
    print()
    print(
        f"job summary: {sizes['summary_bytes']:,} bytes (limit 1,048,576), trimmed: {'; '.join(sizes['summary_trimmed'])}"
    )
    print(
        f"PR comment: {sizes['comment_chars']:,} characters (limit 65,536), trimmed: {'; '.join(sizes['comment_trimmed'])}"
    )


if __name__ == "__main__":
    main()
