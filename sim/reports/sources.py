"""Citations for the source files a scenario names in `sources:`: author, title, where and when published.

Scenarios name their sources by the file name of the article in the project's source collection (the
design's `shared/seeds/`), which is what a reader cannot look up. The report shows the citation instead,
with the file name beside it so that the comments in a scenario file ("Porter: ...") can be traced. A file
this table does not know is shown by its name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.reports.figures import esc


@dataclass(frozen=True)
class Citation:
    author: str
    title: str
    published: str  # where, and the date
    short: str  # how scenario comments cite it


# Read from each file's own header (title, byline, date line) and, for Singh, its closing note.
KNOWN = {
    "000_d8a24bc0456570a9.txt": Citation(
        "Gareth Porter",
        "How Putin's Leverage Shaped the Syrian Ceasefire",
        "Global Research, 30 March 2016",
        "Porter",
    ),
    "002_29a60924520c6287.txt": Citation(
        "Michael Singh",
        "In Syria Talks With Russia, John Kerry's Hand Is Missing a Key Card",
        "The Washington Institute for Near East Policy, 9 September 2016 (first on the Wall Street Journal's "
        "Think Tank blog)",
        "Singh",
    ),
}


def citation_text(source: str) -> str:
    """A source as plain text: 'Author, "Title", where, date' for a known file, else the name as given."""
    known = KNOWN.get(source)
    if known is None:
        return source
    return f"{known.author}, “{known.title}”, {known.published}"


def sources_html(sources: list[str] | tuple[str, ...]) -> str:
    """The sources as an HTML list of citations, each with its file name (escaped); 'none given' if empty."""
    if not sources:
        return "none given"
    items = []
    for source in sources:
        known = KNOWN.get(source)
        if known is None:
            items.append(f'<li class="source">{esc(source)}</li>')
        else:
            items.append(
                f'<li class="source">{esc(known.author)}, “<cite>{esc(known.title)}</cite>”, {esc(known.published)} '
                f'<span class="file">({esc(known.short)}; file {esc(source)})</span></li>'
            )
    return f'<ul class="sources">{"".join(items)}</ul>'
