"""Reading the README and the pages under docs/, for the tests that check what they claim."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADING = re.compile(r"^(#{1,6}) +(.+?)(?: +#+)? *$")
FENCE = re.compile(r"^( *)(`{3,}|~{3,}) *([^`\s]*)")
# [text](target) and ![alt](target), with an optional "title" after the target.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+).+?\1")


def doc_page(page: str) -> str:
    """A page's text, by its path from the top of the repository: `README.md`, `docs/metrics.md`."""
    path = ROOT / page
    assert path.is_file(), f"{page} does not exist"
    return path.read_text(encoding="utf-8")


def doc_pages() -> list[str]:
    """README.md and every page under docs/, as paths from the top of the repository."""
    return ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the opening fence
    lang: str
    mark: str  # the line directly above the fence, stripped
    code: str


def _closes(text: str, fence: str) -> bool:
    match = FENCE.match(text)
    return bool(match and match.group(2)[0] == fence[0] and len(match.group(2)) >= len(fence) and not match.group(3))


def fenced_blocks(page: str) -> list[Block]:
    """Every fenced code block of a page, with the line directly above its opening fence."""
    blocks: list[Block] = []
    text = doc_page(page).splitlines()
    start = 0
    while start < len(text):
        match = FENCE.match(text[start])
        if not match:
            start += 1
            continue
        end = start + 1
        while end < len(text) and not _closes(text[end], match.group(2)):
            end += 1
        mark = text[start - 1].strip() if start else ""
        code = "".join(line + "\n" for line in text[start + 1 : end])
        blocks.append(Block(page, start + 1, match.group(3), mark, code))
        start = end + 1
    return blocks


def outside_code(page: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line that is not in a fenced code block."""
    inside = {n for block in fenced_blocks(page) for n in range(block.line, block.line + block.code.count("\n") + 2)}
    for number, text in enumerate(doc_page(page).splitlines(), start=1):
        if number not in inside:
            yield number, text


def doc_section(page: str, title: str) -> str:
    """The body of the section headed `title` (at any level), up to the next heading of the same or a
    higher level: its subsections included."""
    headings = {number: HEADING.match(text) for number, text in outside_code(page)}
    level, body = 0, []
    for number, text in enumerate(doc_page(page).splitlines(), start=1):
        match = headings.get(number)
        if level == 0:
            if match and match.group(2) == title:
                level = len(match.group(1))
            continue
        if match and len(match.group(1)) <= level:
            break
        body.append(text + "\n")
    assert level, f"{page} has no section headed '{title}'"
    return "".join(body)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lowercased, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(page: str) -> set[str]:
    """Every heading's anchor on a page, with GitHub's -1, -2 suffixes for repeated headings."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, text in outside_code(page):
        match = HEADING.match(text)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: str) -> list[tuple[int, str]]:
    """(line, target) of every link and image outside code."""
    found: list[tuple[int, str]] = []
    for number, text in outside_code(page):
        found.extend((number, target) for target in LINK.findall(CODE_SPAN.sub("", text)))
    return found
