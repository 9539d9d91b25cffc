"""Fonts for the figures: Chinese text drawn with a CJK font, or not drawn at all.

Figure labels come from the user's data as well as from the code: a run folder named
``惠阳-2024``, a scenario or rule named in Chinese. Matplotlib's default font (DejaVu Sans)
has no CJK glyphs and draws each one as an empty box, which a printed report cannot take
back. So a figure is drawn with :data:`CJK_FAMILIES`' first installed font as a fallback
behind DejaVu Sans (Latin text keeps its glyphs and its exact bytes; CJK characters take the
fallback's), and, on a machine with none of them, its labels are drawn in their non-CJK form
instead: the English or id form the caller supplies, else the label without its CJK part
(``completion rate (办结率)`` → ``completion rate``). What was replaced is kept, so the report
says so once and the figure never shows a box.

Why matplotlib's own font list, checked against the system's font files: the font manager
reads a cache written when matplotlib first ran, so a font installed since then is missing
from it. Files the system lists but the cache does not are added once per process; with a
fresh cache that is none, and the lookup costs a set comparison. The first family found in a
fixed order wins, so the same machine draws the same PNG bytes every time.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["CJK_FAMILIES", "PlotText", "find_cjk_font", "has_cjk", "plain_form"]

log = logging.getLogger(__name__)

#: Common CJK-capable families (simplified Chinese first), in the order they are preferred:
#: Linux (Noto, Source Han, WenQuanYi, AR PL), Windows (Microsoft YaHei, SimHei), macOS.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)

#: The Latin font every figure is drawn in (shipped with matplotlib, so always present).
LATIN_FAMILY = "DejaVu Sans"

#: Characters a Latin font lacks: CJK radicals, symbols and punctuation, kana, bopomofo,
#: Hangul, ideographs (with extensions and compatibility forms) and full-width forms.
_CJK = re.compile(
    "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u31ff\u3200-\u4dbf\u4e00-\u9fff\ua960-\ua97f"
    "\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff]+"
)
_GROUP = re.compile(r"\s*[(（][^()（）]*[)）]")
_EMPTY_GROUP = re.compile(r"\(\s*\)")
_SEPARATOR_RUN = re.compile(r"([:;,])(\s*[—–\-:;,/|·])+\s*")
_EDGES = " \t-—–_:;,./|·"

#: What a label that is CJK and nothing else is drawn as, without a CJK font.
UNNAMED = "(name in CJK)"


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a character that needs a CJK font."""
    return _CJK.search(text) is not None


def plain_form(text: str) -> str:
    """``text`` without its CJK part: bracketed CJK groups dropped, other CJK runs removed.

    ``"completion rate (办结率)"`` → ``"completion rate"``; ``"惠阳-2024"`` → ``"2024"``; a label
    that is all CJK gives ``""`` (the caller decides what stands in for it)."""
    out = _GROUP.sub(lambda m: "" if has_cjk(m.group()) else m.group(), text)
    out = _EMPTY_GROUP.sub("", _CJK.sub(" ", out))
    out = _SEPARATOR_RUN.sub(r"\1 ", out)  # "Accuracy: 惠阳 — seed 1" → "Accuracy: seed 1"
    return " ".join(out.split()).strip(_EDGES)


@functools.cache
def _add_fonts_missing_from_cache() -> int:
    """Add to matplotlib's font list the system fonts its cache does not know (once)."""
    from matplotlib import font_manager

    known = {f.fname for f in font_manager.fontManager.ttflist}
    added = 0
    for path in sorted(set(font_manager.findSystemFonts()) - known):
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError) as exc:  # a file the font library cannot read
            log.debug("font %s not readable: %s", path, exc)
        else:
            added += 1
    return added


def _installed_families() -> set[str]:
    from matplotlib import font_manager

    return {f.name for f in font_manager.fontManager.ttflist}


def find_cjk_font(families: tuple[str, ...] = CJK_FAMILIES) -> str | None:
    """The first of ``families`` matplotlib can draw with, or ``None`` when none is installed."""
    found = next((f for f in families if f in _installed_families()), None)
    if found is None and _add_fonts_missing_from_cache():
        found = next((f for f in families if f in _installed_families()), None)
    return found


@dataclass
class PlotText:
    """The font a set of figures is drawn in, and the labels they had to show in non-CJK form.

    Make one per report (or figure file), pass every label that may hold user data through
    it, draw inside :meth:`fonts`, then report :meth:`note` if it is not ``None``."""

    cjk_font: str | None
    #: label as given → label as drawn, for each label drawn without its CJK part
    replaced: dict[str, str] = field(default_factory=dict)

    @classmethod
    def lookup(cls) -> PlotText:
        return cls(find_cjk_font())

    def __call__(self, text: str, plain: str | None = None) -> str:
        """``text`` as a figure may draw it; ``plain`` is its non-CJK form (English, pinyin, id)."""
        if self.cjk_font is not None or not has_cjk(text):
            return text
        shown = plain_form(plain if plain is not None else text) or UNNAMED
        self.replaced.setdefault(text, shown)
        return shown

    @contextlib.contextmanager
    def fonts(self) -> Iterator[None]:
        """Draw Latin text in DejaVu Sans and CJK text in the CJK font found, if any."""
        if self.cjk_font is None:
            yield
            return
        import matplotlib

        with matplotlib.rc_context({"font.family": [LATIN_FAMILY, self.cjk_font]}):
            yield

    def note(self) -> str | None:
        """One sentence for the reader when labels were drawn without their CJK part."""
        if not self.replaced:
            return None
        first, shown = next(iter(self.replaced.items()))
        return (
            f"No CJK font is installed here (looked for {', '.join(CJK_FAMILIES[:5])} and others), so "
            f"{len(self.replaced)} figure label(s) are drawn without their Chinese part, e.g. "
            f"“{first}” as “{shown}”; tables and text keep them. Install one (e.g. the fonts-noto-cjk "
            "package) to draw them."
        )

    def warn(self, where: str) -> None:
        """Log :meth:`note` once as a warning naming the output, when there is something to say."""
        if note := self.note():
            log.warning("%s: %s", where, note)
