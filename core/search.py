"""Search text that finds Chinese words inside titles, with PostgreSQL's ``simple`` parser.

Chinese is written without spaces, so the parser keeps a whole run (新生儿疫苗接种记录) as one
token and only a prefix of it can match. As Lucene's CJK analyser does, the index text also holds
every overlapping pair of characters of each Chinese run (新生 生儿 儿疫 疫苗 苗接 接种 种记 记录)
and the run's last character; a query's Chinese run then asks for all of its pairs (疫苗接种 →
疫苗 & 苗接 & 接种), a single character for any pair that starts with it. Latin words keep
today's prefix matching, and a word that mixes scripts (疫苗abc) is indexed by its parts too.
"""

import re

# CJK Unified Ideographs, Extension A, the compatibility block and Extensions B and later.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_PIECE = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
# Words without underscores: "record_id" searches for "record" and "id" (both are indexed).
WORD = re.compile(r"[^\W_]+", re.UNICODE)


def has_cjk(text: str) -> bool:
    return bool(_CJK_RUN.search(text))


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_text(text: str) -> str:
    """``text`` followed by the extra tokens that make its Chinese words findable."""
    extra: list[str] = []
    for word in WORD.findall(text):
        if not has_cjk(word):
            continue
        for piece in _PIECE.findall(word):
            if _CJK_RUN.fullmatch(piece):
                extra += [*_bigrams(piece), piece[-1]]
            elif piece != word:
                extra.append(piece)
    if not extra:
        return text
    return text + "\n" + " ".join(dict.fromkeys(extra))


def pieces(text: str) -> list[str]:
    """The query's words, split where Chinese meets Latin (疫苗abc → 疫苗, abc): substring
    matching (SQLite) then gives the same answers as the index."""
    return list(dict.fromkeys(p for w in WORD.findall(text or "") for p in _PIECE.findall(w)))


def tsquery(text: str) -> str:
    """A ``to_tsquery('simple', …)`` string: every word must match (Latin ones as a prefix)."""
    parts: list[str] = []
    for word in WORD.findall(text or ""):
        for piece in _PIECE.findall(word.lower()):
            if not _CJK_RUN.fullmatch(piece) or len(piece) == 1:
                parts.append(f"'{piece}':*")
            else:
                parts += [f"'{pair}'" for pair in _bigrams(piece)]
    return " & ".join(dict.fromkeys(parts))
