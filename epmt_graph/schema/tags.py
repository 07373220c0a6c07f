"""EPMT tags: ``"k:v;k2:v2"`` strings, parsed as EPMT parses them and stored canonically.

A job or process stores its tags twice: the canonical string (:func:`tag_string`, ``""``
when untagged) and the sorted ``"k:v"`` list (:func:`tag_pairs`) that indexes and list
predicates match.

Examples
--------
>>> tags = parse_tags("op_sequence:2; op:hsmget")
>>> tag_pairs(tags), tag_string(tags)
(['op:hsmget', 'op_sequence:2'], 'op:hsmget;op_sequence:2')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["parse_tags", "tag_pairs", "tag_string"]


def parse_tags(text: str | Mapping[str, Any] | None) -> dict[str, str]:
    """Parse EPMT tags (``"k:v;k2:v2"``) as EPMT's ``tag_from_string`` does.

    Whitespace around keys and values is dropped, a bare label gets the value ``"1"``,
    a pair with more than one ``:`` is ignored, and empty segments are skipped. A dict
    is returned as is (values as str).

    Examples
    --------
    >>> parse_tags("op:hsmget; op_instance:1;multithreaded")
    {'op': 'hsmget', 'op_instance': '1', 'multithreaded': '1'}
    >>> parse_tags({"op": 5}), parse_tags(None)
    ({'op': '5'}, {})
    """
    if isinstance(text, Mapping):
        return {str(k): str(v) for k, v in text.items()}
    tags: dict[str, str] = {}
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        if ":" not in part:
            tags[part] = "1"
        elif part.count(":") == 1:
            key, value = part.split(":")
            tags[key.strip()] = value.strip()
    return tags


def tag_pairs(tags: Mapping[str, str]) -> list[str]:
    """``"k:v"`` pairs sorted by key.

    Examples
    --------
    >>> tag_pairs({"op_sequence": "2", "op": "hsmget"})
    ['op:hsmget', 'op_sequence:2']
    """
    return [f"{k}:{tags[k]}" for k in sorted(tags)]


def tag_string(tags: Mapping[str, str]) -> str:
    """Canonical tag string (EPMT's ``tag_dict_to_string``): sorted pairs joined by ``;``.

    Examples
    --------
    >>> tag_string({"op_sequence": "2", "op": "hsmget"}), tag_string({})
    ('op:hsmget;op_sequence:2', '')
    """
    return ";".join(tag_pairs(tags))
