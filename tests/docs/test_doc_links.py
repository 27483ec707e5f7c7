"""Every relative link in README.md and docs/*.md leads somewhere: to a file or folder of the repository,
and, with an #anchor, to a heading of that page. Every page is linked from both indexes."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pytest

from support.docs import ROOT, anchors, doc_pages, links, slug

SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # https:, mailto:, ...


def resolve(page: str, target: str) -> tuple[str, str]:
    """(path from the top of the repository, anchor) of a relative link found on `page`."""
    path, _, anchor = target.partition("#")
    if not path:
        return page, anchor
    joined = PurePosixPath(page).parent / path
    parts: list[str] = []
    for part in joined.parts:
        if part == "..":
            assert parts, f"{page}: {target} leads out of the repository"
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts), anchor


@pytest.mark.parametrize("page", doc_pages())
def test_every_relative_link_resolves(page: str) -> None:
    broken = []
    for line, target in links(page):
        if SCHEME.match(target) or not target:
            continue
        path, anchor = resolve(page, target)
        if not (ROOT / path).exists():
            broken.append(f"{page}:{line}: {target}: no file {path}")
        elif anchor and path.endswith(".md") and anchor not in anchors(path):
            broken.append(f"{page}:{line}: {target}: {path} has no heading with the anchor #{anchor}")
        elif anchor and not path.endswith(".md"):
            broken.append(f"{page}:{line}: {target}: an anchor into a file that is not markdown")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("index", ["README.md", "docs/README.md"])
def test_every_page_is_linked_from_the_index(index: str) -> None:
    linked = {resolve(index, target)[0] for _, target in links(index) if not SCHEME.match(target)}
    pages = {page for page in doc_pages() if page.startswith("docs/") and page != "docs/README.md"}
    assert pages - linked == set(), f"{index} does not link to these pages"


def test_links_are_found_and_anchors_are_made_as_github_makes_them() -> None:
    assert slug("Remediation sidecar API (`resque-sidecar`)") == "remediation-sidecar-api-resque-sidecar"
    assert slug("What the tests verify, and what they do not") == "what-the-tests-verify-and-what-they-do-not"
    assert slug("resque_up and [its reasons](metrics.md)") == "resque_up-and-its-reasons"
    assert "#flags-and-environment" in {target for _, target in links("docs/configuration.md")}
    assert "docs/screenshots/attention-desktop.png" in {target for _, target in links("README.md")}
