"""Django's `makemessages`, reading the site's Jinja2 templates with Jinja2's own extractor.

Django's command reads every template as one of its own (`templatize`), which finds `_("...")`
only when nothing follows the string: a Jinja2 call with variables (`_("... %(name)s", name=x)`),
`ngettext` and `{% trans %}` blocks were left out. Here each .html file is read by
`jinja2.ext.babel_extract` (the i18n extension's extractor, which needs no Babel) and handed to
xgettext as Python calls on the same lines, so the catalog's references point at the template.
Everything else (Python, static/js, the djangojs domain) is Django's command unchanged.
"""

from __future__ import annotations

import io
import json

from django.core.management.commands import makemessages
from jinja2.ext import babel_extract

KEYWORDS = ("_", "gettext", "ngettext", "pgettext", "npgettext")


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _call(function: str, message: str | tuple[str | None, ...] | None) -> str | None:
    """The Python call xgettext reads for one extracted message (None: nothing to translate)."""
    parts = list(message) if isinstance(message, tuple) else [message]
    strings = [part for part in parts if isinstance(part, str)]
    if function in ("_", "gettext") and strings:
        return f"gettext({_literal(strings[0])})"
    if function == "ngettext" and len(strings) >= 2:
        return f"ngettext({_literal(strings[0])}, {_literal(strings[1])}, 0)"
    if function == "pgettext" and len(strings) >= 2:
        return f"pgettext({_literal(strings[0])}, {_literal(strings[1])})"
    if function == "npgettext" and len(strings) >= 3:
        return f"npgettext({_literal(strings[0])}, {_literal(strings[1])}, {_literal(strings[2])}, 0)"
    return None


def jinja_messages_as_python(source: str) -> str:
    """The translatable strings of a Jinja2 template as Python calls, each on its line."""
    lines: dict[int, list[str]] = {}
    found = babel_extract(io.BytesIO(source.encode()), KEYWORDS, [], {"trimmed": "false"})
    for lineno, function, message, _comments in found:
        call = _call(function, message)
        if call is not None:
            lines.setdefault(lineno, []).append(call)
    last = max(lines, default=0)
    return "".join("; ".join(lines.get(number, [])) + "\n" for number in range(1, last + 1))


class JinjaBuildFile(makemessages.BuildFile):
    def preprocess(self) -> None:
        if not (self.is_templatized and self.path.endswith(".html")):
            super().preprocess()
            return
        with open(self.path, encoding="utf-8") as source:
            content = jinja_messages_as_python(source.read())
        with open(self.work_path, "w", encoding="utf-8") as work:
            work.write(content)


class Command(makemessages.Command):
    build_file_class = JinjaBuildFile
    # No guessed translations: a new string starts empty (msgmerge's fuzzy matches, marked
    # "fuzzy", offered another sentence's translation, and the translation test refuses them).
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
