"""Benchmark: the memory an .xlsx export takes, for 100 rows and for 160,000 rows (a city-size call).

Each size is written in a child process of its own (a fresh interpreter, so one run's heap does not carry into
the other) by contest.tabular.xlsx_file, the writer every .xlsx export goes through, from a generator of rows
shaped like the entries export (numbers, an aware date-time, a status, a Chinese title, a name, a formula-like
text now and then). The child reports its peak resident set size (resource.getrusage, ru_maxrss) and the file's
size; the parent prints both and their ratio. Written row by row (XlsxWriter's constant_memory), the peak does
not grow with the rows: the ratio stays near 1.

Ends with one line of JSON: {"bench": "xlsx_memory", "ratio": ..., "peak_mb_100": ..., "peak_mb_160000": ...}.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100, 160_000)


def child(n: int) -> None:
    import resource
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    sys.path.insert(0, str(ROOT))
    from flask import Flask
    from flask_babel import Babel

    from contest.console.exports import ENTRY_COLUMNS
    from contest.tabular import Sheet, xlsx_file

    app = Flask("bench")
    Babel(app)
    start = datetime(2027, 1, 1, tzinfo=UTC)

    def rows():
        for i in range(n):
            yield [i + 1, start + timedelta(minutes=i), "approved", "web",
                   f"=HYPERLINK(\"x\",\"{i}\")" if i % 97 == 0 else f"公交站台遮阳棚设计方案第{i}号",
                   "候车亭", "遮阳", "上城区", None, None, None, f"市民{i % 5000}", "resident",
                   start + timedelta(minutes=i, hours=2), ""]

    began = time.perf_counter()
    with app.app_context():
        output = xlsx_file([Sheet("Entries", ENTRY_COLUMNS, rows())], zone=ZoneInfo("Asia/Shanghai"))
    size = output.seek(0, 2)
    print(json.dumps({"rows": n, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "bytes": size, "seconds": round(time.perf_counter() - began, 2)}))


def run(n: int) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
        return
    runs = {n: run(n) for n in SIZES}
    for n, r in runs.items():
        print(f"{n:>7} rows: peak RSS {r['peak_kb'] / 1024:.1f} MB, file {r['bytes'] / 1024:.0f} KB, "
              f"{r['seconds']} s")
    small, large = (runs[n]["peak_kb"] for n in SIZES)
    ratio = large / small
    print(f"peak RSS ratio {SIZES[1]:,} / {SIZES[0]} rows: {ratio:.2f} (constant memory: near 1)")
    print(json.dumps({"bench": "xlsx_memory", "ratio": round(ratio, 3), "peak_mb_100": round(small / 1024, 1),
                      "peak_mb_160000": round(large / 1024, 1),
                      "seconds_160000": runs[SIZES[1]]["seconds"], "bytes_160000": runs[SIZES[1]]["bytes"]}))


if __name__ == "__main__":
    main()
