"""The class reports of ``cs231n-pool grade-all``: grades.csv and pass_rates.png.

``outcomes`` maps each student to the results dict of ``grade.grade_submission`` (None when it
could not be graded) and ``statuses`` each student to its status (see feedback.py).

- grades.csv: one row per student: score, max_score, status, the points of every test, then
  the total per skill (public + hidden tests of the skill, notebook exercises included), then
  the number of written answers, which carry no points here (``ungraded``).
- pass_rates.png: one pair of bars per skill (public and hidden tests side by side), sorted
  from the least passed, with the pass rate printed on each bar; below it, the histogram of
  the class's scores.
"""

import csv
import io

from .feedback import kind_of, skill_of
from .results import fmt_points, write_output

WRITTEN_COLUMN = "written_answers (ungraded)"


def _tests_in_order(outcomes):
    names, seen = [], set()
    for results in outcomes.values():
        for t in results["tests"] if results else []:
            if t["name"] not in seen:
                seen.add(t["name"])
                names.append(t["name"])
    return names


def _skills(names):
    return list(dict.fromkeys(skill_of(name) for name in names))


def write_grades_csv(outcomes, statuses, path, notes=None):
    """grades.csv; ``notes`` maps entries that were not graded (e.g. skipped folders) to their status."""
    names = _tests_in_order(outcomes)
    skills = _skills(names)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(
        ["student", "score", "max_score", "status", *names, *[f"skill:{s}" for s in skills], WRITTEN_COLUMN]
    )
    for student, results in outcomes.items():
        if results is None:
            writer.writerow([student, "", "", statuses[student], *[""] * (len(names) + len(skills) + 1)])
            continue
        scores = {t["name"]: t["score"] for t in results["tests"]}
        per_skill = {}
        for t in results["tests"]:
            per_skill[skill_of(t["name"])] = per_skill.get(skill_of(t["name"]), 0) + t["score"]
        answered = sum(1 for entry in results.get("written", []) if entry["answers"])
        writer.writerow(
            [
                student,
                fmt_points(results["score"]),
                fmt_points(sum(t["max_score"] for t in results["tests"])),
                statuses[student],
                *[fmt_points(scores[n]) if n in scores else "" for n in names],
                *[fmt_points(per_skill[s]) if s in per_skill else "" for s in skills],
                f"ungraded: {answered}",
            ]
        )
    for entry, reason in (notes or {}).items():
        if entry not in outcomes:
            writer.writerow([entry, "", "", reason, *[""] * (len(names) + len(skills) + 1)])
    write_output(path, buffer.getvalue())


def skill_pass_rates(outcomes):
    """[(skill, public rate or None, hidden rate or None)] over the graded students, least passed first.

    A rate is the share of (student, test) pairs of that skill and kind that passed."""
    graded = [results for results in outcomes.values() if results]
    counts = {}
    for results in graded:
        for t in results["tests"]:
            entry = counts.setdefault(skill_of(t["name"]), {"public": [0, 0], "hidden": [0, 0]})[kind_of(t)]
            entry[0] += t["status"] == "passed"
            entry[1] += 1
    rows = []
    for skill, kinds in counts.items():
        rates = [passed / total if total else None for passed, total in (kinds["public"], kinds["hidden"])]
        rows.append((skill, *rates))
    order = {skill: i for i, skill in enumerate(counts)}

    def overall(row):
        known = [r for r in row[1:] if r is not None]
        return sum(known) / len(known), order[row[0]]

    return sorted(rows, key=overall)


def plot_skill_pass_rates(outcomes, path, name):
    """pass_rates.png: the skills' pass rates (public and hidden side by side) and the score histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import numpy as np

    rows = skill_pass_rates(outcomes)
    graded = [results for results in outcomes.values() if results]
    scores = [results["score"] for results in graded]
    top = max(sum(t["max_score"] for t in results["tests"]) for results in graded)
    height = 0.38
    fig, (ax, hist) = plt.subplots(
        2, 1, figsize=(10, 0.42 * len(rows) + 5.2), gridspec_kw={"height_ratios": [max(len(rows), 4), 6]}
    )
    y = np.arange(len(rows))
    for offset, column, color, label in (
        (-height / 2, 1, "tab:blue", "public tests"),
        (height / 2, 2, "tab:orange", "hidden tests"),
    ):
        values = [row[column] for row in rows]
        bars = ax.barh(y + offset, [100 * v if v is not None else 0 for v in values], height, color=color, label=label)
        for bar, value in zip(bars, values, strict=True):
            text = f"{100 * value:.0f}%" if value is not None else "no test"
            ax.text(min(bar.get_width(), 88) + 1, bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=8)
    ax.set_yticks(y, [row[0] for row in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students passing the skill's tests [%]")
    ax.set_title(f"Pass rate per skill, least passed first: {name} ({len(graded)} submissions)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    hist.hist(scores, bins=np.linspace(0, top, min(20, int(top) or 1) + 1), color="tab:green", edgecolor="white")
    hist.set_xlim(0, top)
    hist.set_xlabel(f"score [points out of {fmt_points(top)}]")
    hist.set_ylabel("students [count]")
    hist.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    hist.set_title(f"Scores of the class: median {fmt_points(round(float(np.median(scores)), 1))}")
    hist.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=100)
    plt.close(fig)
    write_output(path, image.getvalue())
