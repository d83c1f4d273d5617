"""A one-glance report of a graded submission: points per test file, as a small SVG bar chart.

Each test file checks one group of skills, so the chart shows where the points were lost. It is
plain SVG text (no plotting library in the grading image) and goes into PrairieLearn's results as
an ``images`` entry, a ``data:image/svg+xml;base64,...`` URL.
"""

import base64
from xml.sax.saxutils import escape

from .results import fmt_points

ROW, LABEL_WIDTH, BAR_WIDTH, POINTS_WIDTH, PAD = 22, 300, 260, 70, 8
EARNED, LOST = "#2e7d32", "#e0e0e0"


def points_per_file(results):
    """[(test file, points earned, points possible)] in the order the tests ran."""
    groups = {}
    for t in results.tests:
        name = t.name.split("::")[0]
        earned, possible = groups.get(name, (0, 0))
        groups[name] = (earned + t.score, possible + t.max_score)
    return [(name, earned, possible) for name, (earned, possible) in groups.items()]


def points_chart_svg(results):
    """The chart as SVG text: one row per test file, the bar filled in proportion to the points earned."""
    rows = points_per_file(results)
    width = LABEL_WIDTH + BAR_WIDTH + POINTS_WIDTH + 2 * PAD
    height = ROW * len(rows) + 2 * PAD
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">'
    )
    parts = [header]
    for i, (name, earned, possible) in enumerate(rows):
        y = PAD + i * ROW
        filled = BAR_WIDTH * earned / possible if possible else 0
        parts.append(f'<text x="{PAD}" y="{y + 15}">{escape(name)}</text>')
        parts.append(
            f'<rect x="{PAD + LABEL_WIDTH}" y="{y + 4}" width="{BAR_WIDTH}" height="{ROW - 8}" fill="{LOST}"/>'
        )
        parts.append(
            f'<rect x="{PAD + LABEL_WIDTH}" y="{y + 4}" width="{filled:.1f}" height="{ROW - 8}" fill="{EARNED}"/>'
        )
        parts.append(
            f'<text x="{PAD + LABEL_WIDTH + BAR_WIDTH + PAD}" y="{y + 15}">'
            f"{fmt_points(earned)}/{fmt_points(possible)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def points_chart_image(results):
    """PrairieLearn's image entry for the chart: ``{"label": ..., "url": "data:image/svg+xml;base64,..."}``."""
    data = base64.b64encode(points_chart_svg(results).encode()).decode()
    return {"label": "Points per test file", "url": f"data:image/svg+xml;base64,{data}"}
