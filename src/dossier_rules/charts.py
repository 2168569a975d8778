"""Figures to SVG text, drawn on the server by matplotlib: one job, no page or data logic here.

Charts are put into the pages inline, so they must hold under the pages'
Content-Security-Policy (no inline style, no script): matplotlib's SVG
backend writes ``style="..."`` attributes and a ``<style>`` element, which
such a policy ignores, so :func:`_clean` turns every style declaration into
the SVG presentation attribute of the same name and drops the ``<style>``,
the metadata, the XML declaration and the DOCTYPE. Text stays text
(``svg.fonttype: none``) without a font family of its own, so Japanese
labels are drawn by the page's fonts and printed sharp; the CJK font named
in :data:`FONTS` is only used, when installed, to measure the labels.

Labels come in already worded in the reader's language: a chart never
shows a code. Every chart has a ``<title>`` (its accessible name).
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
FONTS = ["Noto Sans CJK JP", "IPAexGothic", "IPAGothic", "DejaVu Sans"]
"""Fonts used to measure labels while laying out (the page draws them with its own)."""
COLOURS = ["#1f5fa8", "#b8562f", "#2f8a57", "#7a4fa3", "#8a6d1f", "#4a4a4a", "#c03a66", "#2d8a8a"]
"""Series colours: distinguishable, dark enough for white text contrast, and printable in grey."""
LINES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]
"""Line style and marker per series: lines that coincide stay distinguishable, in colour or printed in grey."""
OUTCOME_COLOURS = {"blocked": "#b3261e", "review": "#b86e00", "clear": "#2f7d32", "not_in_force": "#5f6368", "unreadable": "#202124"}
"""The outcome colours of the pages' banners, so a chart reads like the rest of the product."""
WIDTH, HEIGHT = 6.8, 3.0
"""Inches: a chart fits the width of an A4 page with its margins, two to a page."""
MAX_BARS = 40
"""Bars one chart draws (more are left out: callers give a few acts, countries or months)."""
MAX_POINTS = 130
"""Points of one line: a dashboard of ten years, by month (121); a label on at most :data:`MAX_LABELS` of them."""
MAX_LABELS = 14

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int], horizontal: bool = True) -> str:
    """One series as bars (horizontal by default: long Japanese labels read on the axis, not slanted)."""
    figure, axes = _figure(max(1.6, 0.32 * len(labels) + 0.8) if horizontal else HEIGHT)
    labels, values = list(labels)[:MAX_BARS], list(values)[:MAX_BARS]
    if horizontal:
        positions = list(range(len(labels)))[::-1]
        axes.barh(positions, values, color=COLOURS[0])
        axes.set_yticks(positions, labels)
        axes.xaxis.get_major_locator().set_params(integer=True)
        for y, v in zip(positions, values, strict=True):
            axes.annotate(str(v), (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    else:
        axes.bar(range(len(labels)), values, color=COLOURS[0])
        axes.set_xticks(range(len(labels)), labels)
        axes.yaxis.get_major_locator().set_params(integer=True)
    return _svg(figure, axes, title)


def line_chart(title: str, points: Sequence[str], series: Mapping[str, Sequence[int]], colours: dict[str, str] | None = None) -> str:
    """Several series over the same points (months), one line each, with a legend."""
    figure, axes = _figure(HEIGHT)
    points = list(points)[-MAX_POINTS:]
    for index, (name, values) in enumerate(series.items()):
        colour = (colours or {}).get(name, COLOURS[index % len(COLOURS)])
        style, marker = LINES[index % len(LINES)]
        axes.plot(range(len(points)), list(values)[-MAX_POINTS:], linestyle=style, marker=marker, markersize=4, label=name, color=colour)
    step = -(-len(points) // MAX_LABELS) or 1
    ticks = list(range(0, len(points), step))
    slanted = len(ticks) > 8
    axes.set_xticks(ticks, [points[i] for i in ticks], rotation=45 if slanted else 0, ha="right" if slanted else "center")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylim(bottom=0)
    if series:
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(figure, axes, title)


def stacked_bar_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]], colours: dict[str, str] | None = None) -> str:
    """Horizontal bars split into parts (e.g. dossiers of each country by outcome), with a legend."""
    labels = list(labels)[:MAX_BARS]
    figure, axes = _figure(max(1.6, 0.32 * len(labels) + 0.9))
    positions = list(range(len(labels)))[::-1]
    left = [0] * len(labels)
    for index, (name, values) in enumerate(series.items()):
        part = list(values)[:MAX_BARS]
        colour = (colours or {}).get(name, COLOURS[index % len(COLOURS)])
        axes.barh(positions, part, left=left, label=name, color=colour)
        left = [a + b for a, b in zip(left, part, strict=True)]
    axes.set_yticks(positions, labels)
    axes.xaxis.get_major_locator().set_params(integer=True)
    if series:
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(figure, axes, title)


def _figure(height: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure  # the server extra: imported when a chart is drawn, not when the module is

    figure = Figure(figsize=(WIDTH, height), layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    return figure, axes


def _svg(figure: Any, axes: Any, title: str) -> str:
    """The figure as SVG text safe to put in a page: no script, no style element or attribute, a title."""
    import matplotlib

    out = io.StringIO()
    settings: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "dossier-rules", "font.family": "sans-serif", "font.sans-serif": FONTS}
    with matplotlib.rc_context(settings), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a glyph missing from the measuring fonts: the page draws it
        if not axes.has_data():
            axes.set_axis_off()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return _clean(out.getvalue(), title)


def _clean(text: str, title: str) -> str:
    """matplotlib's SVG with styles as presentation attributes, a title, and nothing a strict policy refuses."""
    root = ET.fromstring(text)  # our own output, not received input
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG_NS}}}style", f"{{{SVG_NS}}}metadata", f"{{{SVG_NS}}}script"):
                parent.remove(child)
    for element in root.iter():
        style = element.attrib.pop("style", None)
        for declaration in (style or "").split(";"):
            name, _colon, value = declaration.partition(":")
            if name.strip() and name.strip() != "font-family":
                element.set(name.strip(), value.strip())
    _own_ids(root, "c" + hashlib.sha256(text.encode()).hexdigest()[:10])
    heading = ET.Element(f"{{{SVG_NS}}}title")
    heading.text = title
    root.insert(0, heading)
    root.set("role", "img")
    root.set("class", "chart")
    root.set("stroke-linejoin", "round")
    return ET.tostring(root, encoding="unicode")


def _own_ids(root: ET.Element, prefix: str) -> None:
    """Every id (and every reference to one) prefixed, so several charts in one page never share an id or a clip path."""
    for element in root.iter():
        if "id" in element.attrib:
            element.set("id", f"{prefix}-{element.attrib['id']}")
    for element in root.iter():
        for name, value in element.attrib.items():
            if name != "id" and "#" in value:
                value = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", value)
                element.set(name, f"#{prefix}-{value[1:]}" if value.startswith("#") and name.endswith("href") else value)
