"""Splits the MLflow compatibility suite by the area headers in its source.

Prints a pytest `-k` expression: with `required`, the tests CI demands pass; with
`deferred`, the tests of areas whose issues are still open (model and
prompt registry), which CI runs only to check that they cannot crash or hang the
server; with `area NAME`, the tests of one area (its header up to the first
parenthesis, e.g. `artifacts`), which CI runs again against other backends. Remove
an area from DEFERRED when its issue lands.

    python3 .ci/compat_areas.py test_mlflow_client.py required|deferred
    python3 .ci/compat_areas.py test_mlflow_client.py area artifacts
"""
import re
import sys

DEFERRED: set = set()

area = None
previous = ""
tests = {}  # area -> its tests, in source order
for line in open(sys.argv[1], encoding="utf-8"):
    # An area header is the comment line right below a "# -----" rule.
    if previous.startswith("# ---") and line.startswith("# ") and not line.startswith("# ---"):
        area = line[2:].split("(")[0].strip().lower()
    previous = line
    test = re.match(r"^def (test_\w+)", line)
    if test:
        tests.setdefault(area, []).append(test.group(1))
deferred = [t for a, ts in tests.items() if a in DEFERRED for t in ts]
mode = sys.argv[2]
if mode == "required":
    print(" and ".join(f"not {t}" for t in deferred) or "test_")
elif mode == "deferred":
    print(" or ".join(deferred))
elif mode == "area" and len(sys.argv) == 4:
    # An empty -k would select the whole suite: a renamed area must fail loudly instead.
    chosen = tests.get(sys.argv[3].lower())
    if not chosen:
        sys.exit(f"compat_areas: no area {sys.argv[3]!r}; areas: {', '.join(a for a in tests if a)}")
    print(" or ".join(chosen))
else:
    sys.exit("usage: compat_areas.py SUITE required|deferred|area NAME")
