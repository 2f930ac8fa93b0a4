"""Parses every source file of one language under a directory with tree-sitter.

Prints one line per syntax error (`file:line:col: what`) and exits 1 if there is any,
else prints how many files were checked and exits 0. Run through `scripts/syntax-gate`,
which installs the parser.
"""

import importlib
import sys
from pathlib import Path

from tree_sitter import Language, Parser

SUFFIXES = {"kotlin": (".kt", ".kts"), "swift": (".swift",)}
SKIP_DIRS = {"build", ".build", ".gradle", "DerivedData", "node_modules"}


def errors_in(node, found):
    """Collects ERROR and MISSING nodes (the outermost of each) below `node`."""
    if node.is_error or node.is_missing:
        found.append(node)
        return
    if node.has_error:
        for child in node.children:
            errors_in(child, found)


def main():
    language, root = sys.argv[1], Path(sys.argv[2])
    grammar = importlib.import_module(f"tree_sitter_{language}")
    parser = Parser(Language(grammar.language()))
    files = sorted(
        p
        for p in root.rglob("*")
        if p.suffix in SUFFIXES[language]
        and p.is_file()
        and not SKIP_DIRS.intersection(p.parts)
    )
    if not files:
        print(f"syntax-gate: no {language} files under {root}", file=sys.stderr)
        return 1
    problems = 0
    for path in files:
        tree = parser.parse(path.read_bytes())
        found = []
        errors_in(tree.root_node, found)
        for node in found:
            line, col = node.start_point
            what = f"missing {node.type}" if node.is_missing else "syntax error"
            snippet = node.text.decode("utf-8", "replace").splitlines()
            near = f" near `{snippet[0][:60]}`" if snippet and snippet[0].strip() else ""
            print(f"{path}:{line + 1}:{col + 1}: {what}{near}")
            problems += 1
    if problems:
        print(f"syntax-gate: {problems} syntax error(s) in {language} under {root}")
        return 1
    print(f"    [syntax] {len(files)} {language} files under {root}: 0 syntax errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
