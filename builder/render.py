"""Render: the Jinja2 environment and page specs turned into bytes. No disk writes here.

Templates are looked up first in the site's ``templates/`` folder, then in the packaged theme,
by file name. Autoescape is on and undefined variables are errors (StrictUndefined), reported as
``template:line: message``.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import jinja2
import markupsafe
from markupsafe import Markup

from . import charts, content, markdown, sources, structured
from .config import SiteConfig
from .errors import BuildError, Diagnostic
from .views import PageSpec

THEME = Path(__file__).parent / "theme"
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def long_date(value: date | datetime) -> str:
    """``2 December 2024``."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def day_heading(value: date | datetime) -> str:
    """``Monday 2 December 2024``."""
    return f"{WEEKDAYS[value.weekday()]} {long_date(value)}"


def short_date(value: date | datetime) -> str:
    """``2 Dec 2024``."""
    return f"{value.day} {MONTHS[value.month - 1][:3]} {value.year}"


def iso(value: date | datetime) -> str:
    """``2024-12-02T14:30:00+01:00`` (a filter: ``{{ a.date|iso }}`` costs a fifth of what
    ``{{ a.date.isoformat() }}`` does, as Jinja checks every call it makes)."""
    return value.isoformat()


def clock(value: datetime) -> str:
    return value.strftime("%H:%M")


def span(value: tuple[date | datetime, date | datetime] | None) -> str:
    """``29 Nov – 2 Dec 2024``, ``2 Dec 2024`` or ``30 Dec 2023 – 2 Jan 2024``."""
    if not value:
        return ""
    a, b = value
    a, b = (a.date() if isinstance(a, datetime) else a), (b.date() if isinstance(b, datetime) else b)
    if a == b:
        return short_date(a)
    if a.year == b.year:
        if a.month == b.month:
            return f"{a.day}–{b.day} {MONTHS[b.month - 1][:3]} {b.year}"
        return f"{a.day} {MONTHS[a.month - 1][:3]} – {short_date(b)}"
    return f"{short_date(a)} – {short_date(b)}"


def month_name(number: int) -> str:
    return MONTHS[number - 1]


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


try:  # markupsafe >= 3: escaping in C, returning str (escape() wraps it in Markup, in Python)
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - markupsafe 2 (escape() is all C there) or no C
    def _escape_inner(text: str) -> str:
        return str(markupsafe.escape(text))


def escape_text(value) -> str:
    """``str(markupsafe.escape(value))``: the text Jinja writes for ``{{ value }}``.

    Jinja's compiled templates call ``escape()`` on every value they print (about 180 times
    on an article page) and only ever join the results into the page's text, so the Markup
    object escape() makes, in Python, for each is thrown away at once. This gives the same
    text without it: a quarter of the time of rendering a page, measured on the bench corpus.
    """
    if type(value) is str:
        return _escape_inner(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()
    return _escape_inner(str(value))


class Template(jinja2.Template):
    """Jinja's template, printing values with :func:`escape_text`."""

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):
        template = super().from_code(environment, code, globals, uptodate)
        # The compiled module's namespace, shared by the template's blocks: its `escape` is
        # what every {{ value }} calls.
        namespace = template.root_render_func.__globals__
        if namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = escape_text
        return template


def make_environment(config: SiteConfig, cache_dir: Path | None = None) -> jinja2.Environment:
    search_path = []
    site_templates = config.root / "templates"
    if site_templates.is_dir():
        search_path.append(str(site_templates))
    search_path.append(str(THEME / "templates"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search_path),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        keep_trailing_newline=True,
        # Compiled templates are kept between builds (keyed by source), saving ~0.4 s a build.
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(cache_dir)) if cache_dir else None,
    )
    env.template_class = Template
    env.filters.update(long_date=long_date, short_date=short_date, day_heading=day_heading,
                       iso=iso, clock=clock, span=span, month_name=month_name, plural=plural,
                       jsonld=structured.script, published=structured.published,
                       absolute_url=lambda url: structured.absolute(config, url))
    env.globals.update(
        site=config, base_path=config.base_path,
        # schema.org JSON-LD built in Python (structured.py); {{ ld_article(...) }} prints it
        ld_website=lambda: structured.website(config),
        ld_article=lambda article, topics, url: structured.news_article(config, article,
                                                                        topics, url),
        ld_collection=lambda *a, **k: structured.collection(config, *a, **k),
        ld_breadcrumbs=lambda trail: structured.breadcrumbs(config, trail),
        # pictures drawn at build time (see charts.py)
        activity_svg=charts.activity_svg, span_strip=charts.span_strip,
    )
    return env


def load_templates(env: jinja2.Environment, config: SiteConfig) -> dict[str, jinja2.Template]:
    """Parse every template once, up front, so syntax errors stop the build before any work."""
    templates = {}
    problems = []
    for name in sorted(env.list_templates(extensions=["html"])):
        try:
            templates[name] = env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Diagnostic(_template_path(exc.filename or name, config), exc.lineno,
                                       None, f"template syntax error: {exc.message}"))
        except (UnicodeDecodeError, OSError) as exc:
            problems.append(_unreadable_template(name, exc, config))
    if problems:
        raise BuildError(problems)
    return templates


def _unreadable_template(name: str, exc: Exception, config: SiteConfig) -> Diagnostic:
    """A template file that is not UTF-8 text (located to the byte) or cannot be read."""
    for folder in (config.root / "templates", THEME / "templates"):
        path = folder / name
        if path.is_file():
            break
    where = _template_path(str(path), config)
    if isinstance(exc, UnicodeDecodeError):
        data = path.read_bytes()
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return Diagnostic(where, line, column,
                          f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", "save the file as UTF-8")
    return Diagnostic(where, None, None, f"cannot read the template: {exc.strerror or exc}")


def _template_path(filename: str, config: SiteConfig) -> str:
    try:
        return Path(filename).resolve().relative_to(config.root).as_posix()
    except ValueError:
        try:
            return "builder/theme/" + Path(filename).resolve().relative_to(THEME).as_posix()
        except ValueError:
            return filename


def template_error(exc: Exception, spec: PageSpec, config: SiteConfig) -> Diagnostic:
    """Locate a rendering error in the template that raised it (Jinja keeps template frames)."""
    filename, line = None, None
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".html") and (name.startswith(str(THEME)) or
                                      name.startswith(str(config.root))):
            filename, line = name, tb.tb_lineno
        tb = tb.tb_next
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    if isinstance(exc, jinja2.UndefinedError):
        hint = "check the variable's name; the README lists what each template receives"
    else:
        hint = None
    where = _template_path(filename, config) if filename else f"template {spec.template}"
    return Diagnostic(where, line, None, f"{message} (while rendering /{spec.url})", hint)


class Renderer:
    """Renders page specs with templates parsed once; safe to use in forked workers."""

    def __init__(self, config: SiteConfig, extra_globals: dict | None = None,
                 cache_dir: Path | None = None):
        self.config = config
        self.env = make_environment(config, cache_dir)
        if extra_globals:
            self.env.globals.update(extra_globals)
        self.templates = load_templates(self.env, config)
        self.times: dict[str, float] = {}
        """Seconds spent per template (or per kind, for outputs without one): for --profile."""
        self.counts: dict[str, int] = {}
        # Macros are made globals once: `{% from "macros.html" import ... %}` in a page
        # template would build the macro module again for every page rendered.
        try:
            module = self.env.get_template("macros.html").module
        except Exception as exc:
            raise BuildError(template_error(exc, PageSpec("macros.html", "macros.html"),
                                            config)) from None
        self.env.globals.update({name: getattr(module, name) for name in dir(module)
                                 if not name.startswith("_")})

    def render(self, spec: PageSpec) -> bytes:
        started = time.perf_counter()
        try:
            return self._render(spec)
        finally:
            name = spec.template or spec.kind
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - started
            self.counts[name] = self.counts.get(name, 0) + 1

    def _render(self, spec: PageSpec) -> bytes:
        if spec.template is None:
            try:
                return spec.make()
            except sources.SourceError as exc:
                raise BuildError(exc.diagnostic) from None
        depth = spec.path.count("/")
        root = self.config.base_path if spec.kind == "404" else "../" * depth
        context = dict(spec.make())
        context["root"] = Markup(root)  # only dots and slashes: nothing to escape
        context["page_url"] = spec.url
        context["canonical"] = self.config.base_url + spec.url
        context["kind"] = spec.kind
        try:
            if spec.kind == "article":
                context["body"] = content.render_body(context["article"], root)
            elif spec.kind == "topic":
                context["intro"] = Markup(markdown.relocate_links(context["topic"].body_html, root))
            elif spec.kind == "page":
                context["body"] = Markup(markdown.relocate_links(context["page"].body_html, root))
            template = self.templates.get(spec.template) or self.env.get_template(spec.template)
            return template.render(context).encode("utf-8")
        except BuildError:
            raise
        except sources.SourceError as exc:
            raise BuildError(exc.diagnostic) from None
        except Exception as exc:  # any template mistake becomes a located diagnostic
            if isinstance(exc, RecursionError):
                raise BuildError(Diagnostic(spec.source or spec.path, None, None,
                                            "content nested too deeply to render")) from None
            raise BuildError(template_error(exc, spec, self.config)) from None
