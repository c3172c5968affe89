"""Pull search terms out of an issue's text: identifiers, quoted strings, Korean words.

Weights say how strongly a term points at the code to change: a quoted string or
a code-like identifier (``MAT_COPPER``, ``kMaterialTable``) is strong evidence,
a plain English word weak. Korean words also contribute their stem without a
trailing particle (재료를 -> 재료) because code comments rarely carry particles.
"""

from __future__ import annotations

import re

_QUOTED = re.compile(r"\"([^\"\n]{2,80})\"|'([^'\n]{2,80})'|`([^`\n]{2,80})`")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_HANGUL = re.compile(r"[\uac00-\ud7a3]{2,}")
_CODE_LIKE = re.compile(r"_|\d|[a-z][A-Z]|^[A-Z]{2,}$")
_PARTICLES = ("에서", "으로", "에게", "부터", "까지", "하고", "이다", "입니다",
              "을", "를", "이", "가", "은", "는", "에", "의", "로", "와", "과", "도", "만")
_STOPWORDS = frozenset(
    """the and for with that this from into onto when then than are was were will should
    must can could would add adds added new entry entries file files code change changes
    please also use using make sure value values line lines after before between update
    set get not but all any each one two its their there here have has had been being
    jira issue ticket task fix bug feature implement support""".split()
)

QUOTED_WEIGHT = 3.0
CODE_WEIGHT = 2.5
KOREAN_WEIGHT = 2.0
STEM_WEIGHT = 1.5
WORD_WEIGHT = 1.0


def spec_terms(spec: str) -> dict[str, float]:
    """Map each lower-cased term found in ``spec`` to its weight (strongest wins)."""
    terms: dict[str, float] = {}

    def add(term: str, weight: float) -> None:
        key = term.strip().lower()
        if len(key) >= 2 and weight > terms.get(key, 0.0):
            terms[key] = weight

    for match in _QUOTED.finditer(spec):
        add(next(group for group in match.groups() if group), QUOTED_WEIGHT)
    for word in _IDENTIFIER.findall(spec):
        if _CODE_LIKE.search(word):
            add(word, CODE_WEIGHT)
        elif word.lower() not in _STOPWORDS and len(word) > 3:
            add(word, WORD_WEIGHT)
    for word in _HANGUL.findall(spec):
        add(word, KOREAN_WEIGHT)
        for particle in _PARTICLES:
            if word.endswith(particle) and len(word) - len(particle) >= 2:
                add(word[: -len(particle)], STEM_WEIGHT)
    return terms
