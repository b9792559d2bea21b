"""Templates to PDF: a sandboxed Jinja template, then WeasyPrint with no way out.

Document templates are written by procedure administrators, not by the
developers, so they are treated as untrusted: Jinja runs in its immutable
sandbox (no attribute tricks, no mutating the context), the loader only sees
the template's own folder and the built-in templates, and WeasyPrint gets a
URL fetcher that refuses everything but inline ``data:`` URLs, so a
template can neither read a local file nor make the server call out.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import logging
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "DocumentError",
    "FetchRefused",
    "PdfAttachment",
    "html_to_pdf",
    "render_html",
    "render_pdf",
    "safe_fetcher",
    "template_sha256",
]

log = logging.getLogger(__name__)


class DocumentError(Exception):
    """A document cannot be made; names the template (and line) at fault when there is one."""

    def __init__(self, message: str, *, template: str | None = None, line: int | None = None):
        where = ""
        if template is not None:
            where = f"{template}:{line}: " if line else f"{template}: "
        super().__init__(where + message)
        self.message = message
        self.template = template
        self.line = line


class FetchRefused(ValueError):  # noqa: N818 -- reads as `raise FetchRefused(url)`
    """A template asked for a resource outside the document (a file, a web address)."""

    def __init__(self, url: str) -> None:
        super().__init__(f"documents may only use inline data: URLs, not {url[:200]!r}")
        self.url = url


# --- the template --------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _environment(template_dir: Path, base_dir: Path) -> ImmutableSandboxedEnvironment:
    # One environment per folder pair keeps compiled templates between renders;
    # auto_reload (the default) still picks up an edited file.
    search = [str(template_dir)]
    if base_dir != template_dir:
        search.append(str(base_dir))
    return ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(search, encoding="utf-8"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _template_frame(error: BaseException, known: set[str]) -> tuple[str | None, int | None]:
    """The innermost template file and line in `error`'s traceback.

    Jinja rewrites tracebacks so that frames of compiled templates carry the
    template's file name and source line, which is what an administrator needs.
    """
    found: tuple[str | None, int | None] = (None, None)
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in known or filename.endswith((".html", ".htm", ".j2", ".jinja")):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def render_html(
    template_path: Path | str, context: Mapping[str, Any], *, base_dir: Path | str
) -> str:
    """The HTML of `template_path` rendered in the sandbox; raises `DocumentError`.

    `base_dir` is the built-in templates folder: with the template's own
    folder, the only places ``{% include %}``/``{% import %}`` can reach.
    """
    path = Path(template_path).resolve()
    base = Path(base_dir).resolve()
    environment = _environment(path.parent, base)
    known = {str(path)}
    try:
        template = environment.get_template(path.name)
        known.add(str(template.filename))
        return template.render(dict(context))
    except jinja2.TemplateSyntaxError as error:
        raise DocumentError(
            f"template syntax error: {error.message}",
            template=error.filename or str(path),
            line=error.lineno,
        ) from None
    except jinja2.TemplateNotFound as error:
        filename, line = _template_frame(error, known)
        raise DocumentError(
            f"template not found: {error.name!s} (only the template's own folder and the"
            " built-in templates can be used)",
            template=filename or str(path),
            line=line,
        ) from None
    except jinja2.exceptions.SecurityError as error:
        filename, line = _template_frame(error, known)
        raise DocumentError(
            f"not allowed in a document template: {error}",
            template=filename or str(path),
            line=line,
        ) from None
    except jinja2.UndefinedError as error:
        filename, line = _template_frame(error, known)
        raise DocumentError(
            f"undefined value: {error.message}", template=filename or str(path), line=line
        ) from None
    except jinja2.TemplateError as error:
        filename, line = _template_frame(error, known)
        raise DocumentError(str(error), template=filename or str(path), line=line) from None
    except (
        TypeError,
        ValueError,
        AttributeError,
        KeyError,
        IndexError,
        ZeroDivisionError,
    ) as error:
        # A template doing arithmetic or formatting on the wrong kind of value.
        filename, line = _template_frame(error, known)
        raise DocumentError(
            f"{type(error).__name__}: {error}", template=filename or str(path), line=line
        ) from None


def template_sha256(template_path: Path | str) -> str:
    return hashlib.sha256(Path(template_path).read_bytes()).hexdigest()


# --- the PDF ---------------------------------------------------------------------


@functools.cache
def _fetcher_class() -> type[Any]:
    # Importing WeasyPrint takes about half a second: only when a PDF is made.
    from weasyprint.urls import URLFetcher

    class SafeFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint has no type hints
        """Fetches `data:` URLs only; everything else is refused and logged."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data",), allow_redirects=False)

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme, colon, _ = url.partition(":")
            if not colon or scheme.strip().lower() != "data":
                log.warning("document template asked for %s: refused", url[:200])
                raise FetchRefused(url)
            return super().fetch(url, headers)

    return SafeFetcher


def safe_fetcher() -> Any:
    """A WeasyPrint URL fetcher for untrusted documents (a new one per render)."""
    return _fetcher_class()()


#: Japanese fonts for whatever a template leaves unstyled (a user stylesheet, so
#: the template's own rules win): page margin boxes inherit from the root, not
#: from `body`, and would otherwise fall back to whatever serif font the
#: server happens to have.
BASE_STYLESHEET = """
html, body { font-family: "IPAexGothic", "IPAexMincho", sans-serif; }
@page { font-family: "IPAexGothic", "IPAexMincho", sans-serif; }
"""


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in a PDF (with PDF/A-3, associated with the document by /AF)."""

    name: str
    data: bytes
    description: str = ""
    #: the /AFRelationship: Source, Data, Alternative, Supplement or Unspecified
    relationship: str = "Unspecified"
    #: its creation and modification date (default: now)
    modified: datetime.datetime | None = None


def html_to_pdf(
    html: str,
    *,
    pdf_variant: str | None = None,
    attachments: Sequence[PdfAttachment] = (),
) -> bytes:
    """A PDF of `html`, with its fonts embedded (subset) and nothing fetched.

    `pdf_variant` is one of WeasyPrint's (``"pdf/a-3b"`` for the archive copy);
    `attachments` are embedded as files.
    """
    from weasyprint import CSS, HTML, Attachment
    from weasyprint.text.fonts import FontConfiguration

    # A fresh font configuration each time (about 10 ms): one kept between
    # renders would keep any @font-face a template added from a data: URL,
    # letting one procedure's template change the fonts of every other document.
    document = HTML(string=html, url_fetcher=safe_fetcher())
    base = CSS(string=BASE_STYLESHEET, url_fetcher=safe_fetcher())
    embedded = []
    for attachment in attachments:
        # WeasyPrint writes the dates as UTC ("...Z"), so it must be given UTC.
        moment = (attachment.modified or datetime.datetime.now(datetime.UTC)).astimezone(
            datetime.UTC
        )
        embedded.append(
            Attachment(
                string=attachment.data,
                url_fetcher=safe_fetcher(),
                name=attachment.name,
                description=attachment.description,
                relationship=attachment.relationship,
                created=moment,
                modified=moment,
            )
        )
    options: dict[str, Any] = {
        "stylesheets": [base],
        "font_config": FontConfiguration(),
        "pdf_variant": pdf_variant,
        "attachments": embedded or None,
    }
    if pdf_variant is None:
        pdf: bytes = document.write_pdf(**options)
        return pdf
    # The PDF/A variants add an sRGB output intent, and WeasyPrint 70 opens its
    # sRGB2014.icc without closing it: silence that one ResourceWarning (an error
    # under the tests' `filterwarnings = error`).  catch_warnings swaps a global,
    # so these renders take turns.
    with _UNCLOSED_ICC_LOCK, warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"unclosed file .*sRGB2014\.icc", category=ResourceWarning
        )
        pdf = document.write_pdf(**options)
    return pdf


_UNCLOSED_ICC_LOCK = threading.Lock()


def render_pdf(
    template_path: Path | str, context: Mapping[str, Any], *, base_dir: Path | str
) -> bytes:
    """Render `template_path` in the sandbox and lay it out as a PDF; raises `DocumentError`."""
    return html_to_pdf(render_html(template_path, context, base_dir=base_dir))
