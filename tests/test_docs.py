"""The project stands alone: nothing cites notes outside the repository, and every citation of
docs/mistral-7b.md names a section that page has."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for d in ("minimistral", "tests", "benchmarks", "notebooks", "docs")
           for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".md", ".ipynb")] + [ROOT / "README.md"]
OUTSIDE = "shared" + "/"            # spelled apart so this file does not match itself


def test_nothing_cites_notes_outside_the_repository():
    offenders = [str(p.relative_to(ROOT)) for p in SOURCES if OUTSIDE in p.read_text(errors="replace")]
    assert offenders == []


def test_citations_of_the_facts_page_name_existing_sections():
    page = (ROOT / "docs" / "mistral-7b.md").read_text()
    sections = set(re.findall(r"^## §(\d+)", page, flags=re.M))
    assert sections == {str(n) for n in range(1, 9)}
    cited = {(str(p.relative_to(ROOT)), n) for p in SOURCES
             for n in re.findall(r"docs/mistral-7b\.md (?:§|section )(\d+)", p.read_text(errors="replace"))}
    assert cited and all(n in sections for _, n in cited), sorted(cited)
