"""BFCL's Java and JavaScript prompt-output parsers, on the tree-sitter grammars BFCL pins.

BFCL (bfcl-eval 2026.3.23, Apache-2.0) does not read simple_java / simple_javascript answers as
Python: ``ast_parse`` drops the text's outer ``[ ]`` and parses the rest with tree-sitter
(``model_handler/parser/java_parser.py`` and ``js_parser.py``). The traversals below are those,
step for step, quirks included, because the checker's verdicts depend on them:

* any ERROR node in the tree fails (a missing ``;`` does not: tree-sitter inserts it);
* values come back as source text; string (and Java char) literals lose their quotes only at the
  top level; Java re-joins nested tokens without spaces (``new int[]{1,2}``, ``(int)3.0``);
* Java returns the first method invocation found depth first (later calls are ignored) and ``{}``
  when there is none; JavaScript the first call that is a whole statement, else ``None``;
* positional arguments (Java: identifiers, class literals, sets; JavaScript: identifiers and
  ``true``) go under the key ``None``; a repeated name fails;
* Java slices the text by byte offsets, so values after a non-ASCII character are shifted.

tree-sitter is the optional extra ``bfcl-langs``, imported the first time a Java/JavaScript answer is
decoded. Exactly BFCL's versions are required: other grammar versions build other trees, and
tree-sitter 0.22 changed the API BFCL uses.
"""

from __future__ import annotations

import functools
from typing import Any

from .calls import DecodeError, call

PINNED = {"tree-sitter": "0.21.3", "tree-sitter-java": "0.21.0", "tree-sitter-javascript": "0.21.4"}
INSTALL_HINT = "pip install 'opentoollab[bfcl-langs]'"
_GRAMMARS = {"java": ("tree_sitter_java", "tree-sitter-java"),
             "javascript": ("tree_sitter_javascript", "tree-sitter-javascript")}


class LanguageUnavailable(ValueError):
    """tree-sitter or a grammar is missing or not BFCL's version (a setup problem, not a model's fault)."""


def parse_source(source: str, language: str) -> list[dict[str, Any]] | dict:
    """Text without its outer brackets → calls, or ``{}`` when BFCL's parser finds no call
    (BFCL: ``decoder_wrong_output_format``); DecodeError where BFCL's parser raises."""
    parser = _parser(language)
    try:
        found = _java(parser, source) if language == "java" else _javascript(parser, source)
    except RecursionError:
        raise DecodeError(f"{language} source nested too deeply") from None
    if not isinstance(found, list):
        return {}
    return [call(name, arguments) for item in found for name, arguments in item.items()]


@functools.lru_cache(maxsize=None)
def _parser(language: str) -> Any:
    from importlib import import_module
    from importlib.metadata import PackageNotFoundError, version

    module, distribution = _GRAMMARS[language]
    try:
        tree_sitter, grammar = import_module("tree_sitter"), import_module(module)
    except ImportError as exc:
        raise LanguageUnavailable(f"scoring raw {language} answers needs BFCL's tree-sitter parsers "
                                  f"({exc.name or module} is not installed): {INSTALL_HINT}") from None
    for name in ("tree-sitter", distribution):
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "of unknown version"
        if installed != PINNED[name]:
            raise LanguageUnavailable(f"scoring raw {language} answers needs BFCL's {name}=={PINNED[name]} "
                                      f"(installed: {installed}; other versions parse differently): {INSTALL_HINT}")
    parser = tree_sitter.Parser()
    parser.set_language(tree_sitter.Language(grammar.language(), language))
    return parser


def _parse_tree(parser: Any, source: str, language: str) -> Any:
    root = parser.parse(source.encode("utf8")).root_node
    if "ERROR" in root.sexp():
        raise DecodeError(f"Error parsing {language} source code.")
    return root


def _add(arguments: dict, name: str | None, value: str) -> None:
    if name in arguments:
        raise DecodeError("Error: Multiple arguments with the same name are not supported.")
    arguments[name] = value


# ---------------------------------------------------------------------------------- Java
def _java(parser: Any, source: str) -> list | None:
    root = _parse_tree(parser, source, "java")

    def text(node: Any) -> str:
        return source[node.start_byte:node.end_byte]  # byte offsets into str, as BFCL does

    def value(node: Any, nested: bool = False) -> str:
        if node is None:  # BFCL: AttributeError on a missing field (e.g. `new int[2]` has no `value`)
            raise DecodeError("'NoneType' object has no attribute 'type'")
        kind = node.type
        if kind in ("string_literal", "character_literal"):
            return text(node) if nested else text(node)[1:-1]
        if kind in ("identifier", "class_literal", "type_identifier", "method_invocation"):
            return text(node)
        if kind == "array_creation_expression":
            type_text = value(node.child_by_field_name("type"), True)
            return f"new {type_text}[]{value(node.child_by_field_name('value'), True)}"
        if kind == "object_creation_expression":
            type_text = value(node.child_by_field_name("type"), True)
            arguments = node.child_by_field_name("arguments")
            if not arguments:
                return f"new {type_text}()"
            inner = ", ".join(value(c, True) for c in arguments.children if c.type not in (",", "(", ")"))
            return f"new {type_text}({inner})"
        if kind == "set":
            return "{" + ", ".join(value(c, True) for c in node.children if c.type not in (",", "set")) + "}"
        if node.child_count > 0:
            return "".join(value(c, True) for c in node.children)
        return text(node)

    def arguments_of(node: Any) -> dict:
        arguments: dict = {}
        for child in node.children:
            if child.type == "assignment_expression":
                _add(arguments, text(child.children[0]), value(child.children[2]))
            elif child.type in ("identifier", "class_literal", "set"):
                _add(arguments, None, value(child))
        return arguments

    # Depth first with an explicit stack; BFCL recurses, but visits the same nodes in the same order.
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "method_invocation":
            name = text(node.child_by_field_name("name"))
            owner = node.child_by_field_name("object")
            arguments = node.child_by_field_name("arguments")
            if arguments:
                return [{f"{text(owner)}.{name}" if owner else name: arguments_of(arguments)}]
        else:
            stack.extend(reversed(node.children))
    return None


# ---------------------------------------------------------------------------------- JavaScript
def _javascript(parser: Any, source: str) -> list | None:
    root = _parse_tree(parser, source, "js")

    def arguments_of(node: Any) -> dict:
        arguments: dict = {}
        for child in node.children:
            if child.type == "assignment_expression":
                value = child.children[2].text.decode("utf-8")
                if value[:1] == value[-1:] and value[:1] in ("'", '"'):  # BFCL: startswith and endswith
                    value = value[1:-1]
                _add(arguments, child.children[0].text.decode("utf-8"), value)
            elif child.type in ("identifier", "true"):
                _add(arguments, None, child.text.decode("utf-8"))
        return arguments

    for statement in root.children:
        if statement.type == "expression_statement":
            for node in statement.children:
                if node.type == "call_expression":
                    return [{node.children[0].text.decode("utf8"): arguments_of(node.children[1])}]
    return None
