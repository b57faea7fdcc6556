"""Mutation testing: does the suite fail when the behaviour of a module breaks?

`make mutation` runs mutmut (``[tool.mutmut]`` in ``pyproject.toml``) over the modules users
depend on most: mutmut makes one small edit at a time (``<`` for ``<=``, ``max`` for ``min``,
a constant changed, a call's argument dropped...) and runs the tests that cover the edited
function; a mutant no test notices *survives*. Too slow for CI (an hour on 2 cores, each
mutant a forked test run); the table and every survivor, with the reason it is left, go to
``docs/mutation.md`` and ``docs/mutation.json``, and `make bench` quotes the table.

A survivor left on purpose is named in ``bench/mutation_survivors.toml`` with the reason:
*equivalent* (no input can tell the edit from the original, so no test can) or *not worth a
test* (the edit changes only wording of a message no user sees, and so on).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REASONS = Path(__file__).with_name("mutation_survivors.toml")
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
"""Outcomes in which a test (or the type checker) noticed the mutant."""


def run_mutmut() -> None:
    """Mutate and test (mutmut resumes where a run stopped, and retests changed functions)."""
    children = str(max(1, (os.cpu_count() or 2)))
    subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", children],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def outcomes() -> dict[str, dict[str, str]]:
    """Each mutated module's mutants and their outcomes, read from mutmut's records."""
    from mutmut.stats import status_by_exit_code

    found: dict[str, dict[str, str]] = {}
    for meta in sorted((ROOT / "mutants" / "src").rglob("*.py.meta")):
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        if codes:
            module = meta.relative_to(ROOT / "mutants").as_posix().removesuffix(".meta")
            found[module] = {name: status_by_exit_code[code] for name, code in codes.items()}
    return found


def diff_of(name: str) -> str:
    """The mutant's edit as a unified diff of its function (`mutmut show`)."""
    shown = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "\n".join(
        line
        for line in shown.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


def readable(name: str) -> str:
    """``tunesmith.writing.rules.x_run__mutmut_7`` as ``rules._run #7``."""
    module, _, function = name.removeprefix("tunesmith.").rpartition(".")
    function = re.sub(r"^x[ǁ_]", "", function).replace("ǁ", ".")
    base, _, number = function.rpartition("__mutmut_")
    return f"{module}.{base} #{number}"


def main() -> None:
    """Run mutmut, then write docs/mutation.md and docs/mutation.json."""
    if "--report-only" not in sys.argv:
        run_mutmut()
    reasons: dict[str, str] = tomllib.loads(REASONS.read_text("utf-8")) if REASONS.exists() else {}
    rows, survivors = [], []
    totals: Counter[str] = Counter()
    for module, mutants in outcomes().items():
        counts = Counter(mutants.values())
        killed = sum(counts[outcome] for outcome in KILLED)
        judged = len(mutants) - counts["skipped"] - counts["not checked"]
        totals.update(counts)
        rows.append((module, len(mutants), killed, counts["survived"], counts["no tests"], judged))
        for name, outcome in mutants.items():
            if outcome in {"survived", "no tests", "suspicious"}:
                survivors.append((readable(name), name, outcome))
    report = {
        "modules": [
            {
                "module": module,
                "mutants": total,
                "killed": killed,
                "survived": survived,
                "no_tests": untested,
                "not_checked": total - judged,
                "kill_rate": round(killed / judged, 3) if judged else None,
            }
            for module, total, killed, survived, untested, judged in rows
        ],
        "survivors": [
            {"mutant": short, "outcome": outcome, "reason": reasons.get(short, "")}
            for short, _, outcome in survivors
        ],
    }
    judged_all = sum(row[5] for row in rows)
    killed_all = sum(row[2] for row in rows)
    report["kill_rate"] = round(killed_all / judged_all, 3) if judged_all else None
    report["commit"] = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (DOCS / "mutation.json").write_text(json.dumps(report, indent=1) + "\n", "utf-8")
    lines = [
        "# Mutation testing",
        "",
        (__doc__ or "").strip(),
        "",
        table(report),
        "",
        "## Survivors",
        "",
        "Each mutant the suite lets live, its edit, and why it is left.",
    ]
    for short, name, outcome in survivors:
        reason = reasons.get(short, "**not yet explained: a test is missing**")
        lines += ["", f"### `{short}` ({outcome})", "", reason, "", "```diff", diff_of(name), "```"]
    (DOCS / "mutation.md").write_text("\n".join(lines) + "\n", "utf-8")
    print(f"kill rate {report['kill_rate']}; wrote docs/mutation.md", file=sys.stderr)


def table(report: dict[str, object] | None = None) -> str:
    """The per-module table, from docs/mutation.json when no report is given (`make bench`)."""
    if report is None:
        saved = DOCS / "mutation.json"
        if not saved.exists():
            return "Not measured yet: run `make mutation`."
        report = json.loads(saved.read_text("utf-8"))
    assert report is not None
    modules = report["modules"]
    assert isinstance(modules, list)
    lines = [
        f"Run at commit {report.get('commit', '?')}. The kill rate is of the mutants checked;"
        " a run stopped early leaves the rest unchecked (`make mutation` resumes it).",
        "",
        "| module | mutants | checked | killed | survived | no tests | kill rate |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in modules:
        rate = "-" if row["kill_rate"] is None else f"{row['kill_rate']:.0%}"
        checked = row["mutants"] - row.get("not_checked", 0)
        lines.append(
            f"| `{row['module']}` | {row['mutants']} | {checked} | {row['killed']} "
            f"| {row['survived']} | {row['no_tests']} | {rate} |"
        )
    total = report["kill_rate"]
    lines.append(f"\nAll modules: {total:.1%} of the mutants checked killed." if total else "")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
