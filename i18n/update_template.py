"""Write ``landfuse_en.ts``, the translation template: every string the plugin passes to ``tr()`` as a literal, and
the Processing algorithms' display names and help (their ``DISPLAY_NAME`` and ``HELP`` constants).

    python i18n/update_template.py           # rewrite the template
    python i18n/update_template.py --check   # exit status 1 when the template is out of date

To translate: copy the template to ``landfuse_<language>.ts`` (e.g. ``landfuse_de.ts``), fill in the translations
(Qt Linguist), and compile it with ``lrelease landfuse_de.ts``; the plugin loads ``landfuse_<language>.qm`` for
QGIS's user locale.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "i18n" / "landfuse_en.ts"
CONTEXT = "LandFuse"  # plugin/i18n.py translates in this context
TRANSLATED_CONSTANTS = ("DISPLAY_NAME", "HELP")


def _python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def source_strings(folder: Path = ROOT / "plugin") -> list[tuple[str, str]]:
    """``(text, file)`` of every translatable string under ``folder``, each text once, file by file."""
    found: dict[str, str] = {}
    for path in _python_files(folder):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if _is_tr_call(node) and node.args and _is_text(node.args[0]):
                found.setdefault(node.args[0].value, relative)
            elif _is_translated_constant(node):
                found.setdefault(node.value.value, relative)
    return list(found.items())


def untranslatable_calls(folder: Path = ROOT / "plugin") -> list[str]:
    """``tr()`` calls whose argument the template cannot list (not one literal string): ``file:line`` each.

    ``tr(self.DISPLAY_NAME)`` and ``tr(self.HELP)`` are fine: those constants are listed."""
    problems = []
    for path in _python_files(folder):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not _is_tr_call(node):
                continue
            argument = node.args[0] if len(node.args) == 1 and not node.keywords else None
            constant = isinstance(argument, ast.Attribute) and argument.attr in TRANSLATED_CONSTANTS
            if not (_is_text(argument) or constant):
                problems.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}")
    return problems


def _is_translated_constant(node: ast.AST) -> bool:
    """``DISPLAY_NAME = "..."`` or ``HELP = "..."``: the algorithms translate these with ``tr()``."""
    return (
        isinstance(node, ast.Assign)
        and _is_text(node.value)
        and any(isinstance(target, ast.Name) and target.id in TRANSLATED_CONSTANTS for target in node.targets)
    )


def _is_tr_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"


def _is_text(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)


def template(strings: list[tuple[str, str]]) -> str:
    """The ``.ts`` document listing ``strings`` (``(text, file)``) in the ``LandFuse`` context, untranslated."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<!DOCTYPE TS>",
        '<TS version="2.1" language="en">',
        "<context>",
        f"    <name>{CONTEXT}</name>",
    ]
    for text, path in strings:
        lines += [
            "    <message>",
            f'        <location filename="../{path}"/>',
            f"        <source>{escape(text)}</source>",
            '        <translation type="unfinished"></translation>',
            "    </message>",
        ]
    lines += ["</context>", "</TS>", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    problems = untranslatable_calls()
    if problems:
        print("tr() needs one literal string (format it afterwards): " + ", ".join(problems), file=sys.stderr)
        return 1
    text = template(source_strings())
    if "--check" in argv:
        current = TEMPLATE.read_text(encoding="utf-8") if TEMPLATE.is_file() else ""
        if current != text:
            print(f"{TEMPLATE} is out of date: run python i18n/update_template.py", file=sys.stderr)
            return 1
        return 0
    TEMPLATE.write_text(text, encoding="utf-8")
    print(f"{TEMPLATE}: {len(source_strings())} strings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
