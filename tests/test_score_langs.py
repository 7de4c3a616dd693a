"""Raw Java/JavaScript answers: our decoding and verdicts against BFCL's own tree-sitter parsers and checker.

BFCL's parser modules (model_handler/parser/java_parser.py, js_parser.py) are imported from the pinned
wheel and need the ``bfcl-langs`` extra, which scripts/test.sh installs.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections import Counter

import pytest

from opentoollab.format.jsonl import write_samples
from opentoollab.benchmark.scoring import item_of
from opentoollab.benchmark.scoring.parity import PARITY_MODEL, bfcl_entries, gold_calls, load_official, official_output
from opentoollab.benchmark.scoring.parse import DecodeError, parse_text
from opentoollab.benchmark.scoring.score import score_item

LANGUAGES = {"simple_java": "java", "simple_javascript": "javascript"}


@pytest.fixture(scope="module")
def official(bfcl_wheel):
    checker = load_official(bfcl_wheel)
    try:
        java = importlib.import_module("bfcl_eval.model_handler.parser.java_parser")
        js = importlib.import_module("bfcl_eval.model_handler.parser.js_parser")
    except ImportError as exc:
        pytest.fail(f"BFCL's parsers need the bfcl-langs extra ({exc}): pip install -e '.[bfcl-langs]'")
    checker.parsers = {"java": java.parse_java_function_call, "javascript": js.parse_javascript_function_call}
    checker.languages = {"java": checker.Language.JAVA, "javascript": checker.Language.JAVASCRIPT}
    return checker


@pytest.fixture(scope="module")
def raw(bfcl_store):
    return bfcl_entries(bfcl_store.raw_dir("BFCL"))


def official_decode(official, text: str, language: str):
    """BFCL's default_decode_ast_prompting + ast_parse for Java/JS (model_handler/utils.py, which cannot be
    imported from the zipped wheel): strip, bracket, drop the brackets again, parse."""
    body = text.strip("`\n ")
    if not body.startswith("["):
        body = "[" + body
    if not body.endswith("]"):
        body = body + "]"
    return official.parsers[language](body[1:-1])


def decoded(function, *args, errors: type[BaseException] | tuple = Exception):
    """('ok', BFCL-shaped output; None and {} alike: no call found) or ('error', None) for ``errors``.

    BFCL's runner turns any exception of its parser into decoder_failed (the default); ours must raise
    only its documented DecodeError (pass ``errors=DecodeError``): any other exception is a crash of ours
    and propagates, so it can never count as agreeing with BFCL's decoder_failed."""
    try:
        value = function(*args)
    except errors:
        return "error", None
    if isinstance(value, list) and all(isinstance(c, dict) and "name" in c for c in value):
        value = official_output(value)
    return "ok", value if isinstance(value, list) else {}


def official_verdict(official, entry, answer, text, language, category) -> tuple[bool, str | None]:
    """eval_runner._evaluate_single_ast_entry's decode, format check and ast_checker, as (valid, error_type)."""
    status, value = decoded(official_decode, official, text, language)
    if status == "error":
        return False, "ast_decoder:decoder_failed"
    if not isinstance(value, list):
        return False, "ast_decoder:decoder_wrong_output_format"
    result = official.ast_checker(entry["function"], value, answer, official.languages[language], category,
                                  PARITY_MODEL)
    return result["valid"], None if result["valid"] else result["error_type"]


# ---------------------------------------------------------------------------------- answer texts
def source_value(value: str, kind: str | None, quote: str) -> str:
    """A gold value as a model writes it in source: strings quoted, everything else already source text."""
    if kind == "String":
        return quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
    if kind == "char":
        return f"'{value}'"
    return value


def call_text(call: dict, types: dict, quote: str = '"', sep: str = ", ", eq: str = "=") -> str:
    args = sep.join(f"{k}{eq}{source_value(v, types.get(k), quote)}" for k, v in call["arguments"].items())
    return f"{call['name']}({args})"


def text_variants(item) -> list[tuple[str, str]]:
    """(kind, raw text): the gold answer as Java/JS source in several spellings, and wrong ones."""
    gold = gold_calls(item.functions, item.answers, item.language)
    types = {k: v.get("type") for f in item.functions for k, v in f["parameters"]["properties"].items()}
    first = gold[0]
    text = call_text(first, types)
    out = [("gold", f"[{text}]"), ("bare", text), ("fenced", f"```\n[{text}]\n```"),
           ("single_quotes", f"[{call_text(first, types, quote=chr(39))}]"),
           ("spacing", f"[ {call_text(first, types, sep=' ,  ', eq=' = ')} ]"),
           ("semicolon", f"[{text};]"), ("two_statements", f"[{text}; {text}]"), ("comma_calls", f"[{text}, {text}]"),
           ("wrong_name", f"[{call_text({**first, 'name': first['name'] + 'X'}, types)}]"),
           ("python_literals", "[" + first["name"] + "(" + ", ".join(f"{k}={v!r}" for k, v in first["arguments"].items()) + ")]")]
    if first["arguments"]:
        key = next(iter(first["arguments"]))
        rest = {k: v for k, v in first["arguments"].items() if k != key}
        out += [("dropped_param", f"[{call_text({**first, 'arguments': rest}, types)}]"),
                ("duplicated_param", f"[{text[:-1]}, {key}={source_value(first['arguments'][key], types.get(key), chr(34))})]"),
                ("positional", f"[{text[:-1]}, someVariable)]"),
                ("unquoted", f"[{call_text(first, {}, quote='')}]"),
                ("nested_call", f"[{call_text({**first, 'arguments': {**first['arguments'], key: 'helper(x=1)'}}, types)}]")]
    return out


HAND_WRITTEN = [
    'Foo.bar(controller=mapController, params=new HashMap<>())',
    '[f(s="hello, world", c=\'x\', esc="a\\"b", empty="")]',
    '[f(a=new int[]{1, 2}, b=new String[]{"x", "y"}, c=new int[2], d=new int[][]{{1}, {2, 3}})]',
    '[f(o=new Foo(1, "a", new Bar()), l=new ArrayList<>(Arrays.asList("a", "b")), m=new Foo())]',
    '[f(m=new HashMap<String, Object>() {{ put("limit", 50); put("x", "y"); }})]',
    '[a.b.c(d=e.f(g=1), h=true, i=false, j=null)]',
    '[f(i=1, l=10L, x=0x1F, d=1.5, fl=2.5f, e=1e-3, neg=-3, sum=1+2, cast=(int) 3.0, not=!true)]',
    '[f(k=Foo.class, t=this, v=x.y.z, arr=list[0], lam=(a, b) -> a + b, ter=a ? b : c)]',
    '[f(x, Foo.class, y=1)]', '[f(x, y)]', '[f()]', '[f(a=1, a=2)]', '[f(1, "positional", a=2)]',
    '[f(a=1), g(b=2)]', 'f(a=1); g(b=2)', 'f(a=1)\ng(b=2)', '[x = f(a=1)]', '[int x = f(a=1);]',
    '[f(s="é", b=2)]', '[f(s="日本", t=\'ü\')]', '[f(a=`t${x}`, b=/re/g, c=() => 1, d={k: [1, "a"]}, e=[1, "b"])]',
    '[f(a=\'single\', b="double", c=\'it\\\'s\', d=undefined, e=NaN)]', '[f(true, x, false)]', '[f(a=[1, 2], b={"k": 1})]',
    '[new Foo(a=1)]', '[await f(a=1)]', '[f(a=1).g(b=2)]', '[f(a=1)(b=2)]', '[f`tpl`]', '[obj.method(a=1)]',
    '[f(a=function() { return 1; })]', '[f(a=1,)]', '[f(a=1]', '[f(a="unterminated)]', '[]', '', '``````', 'x',
    'Sorry, I cannot help with that.', '<tool_call>f(a=1)</tool_call>', '[f(a=<div>hi</div>)]', '[f(a=1) // comment]',
    '[/* c */ f(a=1)]', '[' + 'f(a=' * 60 + '1' + ')' * 60 + ']', '[{"name": "f", "arguments": {"a": 1}}]',
]


# ---------------------------------------------------------------------------------- tests
def test_decoding_equals_bfcl_parsers(bfcl_samples, official):
    """Every gold answer (and its variants) and the hand-written texts decode exactly as BFCL's parsers do."""
    checked, outcomes = 0, Counter()
    for subset, language in LANGUAGES.items():
        texts = [t for s in bfcl_samples[subset] for _kind, t in text_variants(item_of(s))] + HAND_WRITTEN
        for text in texts:
            ours = decoded(parse_text, text, language, errors=DecodeError)
            theirs = decoded(official_decode, official, text, language)
            if text.startswith("[{") and theirs != ours:  # JSON calls: our extension, where BFCL's parsers fail
                assert theirs in (("error", None), ("ok", {})), text
                continue
            assert ours == theirs, (language, text)
            outcomes[language, ours[0] if ours[0] == "error" else "calls" if ours[1] else "no_call"] += 1
            checked += 1
    assert checked > 2 * len(HAND_WRITTEN) + 150 * 10
    # All three outcomes occur in both languages: the comparison is not between two always-failing parsers.
    assert all(outcomes[language, kind] >= 3 for language in LANGUAGES.values()
               for kind in ("error", "calls", "no_call")), outcomes


def test_verdicts_equal_official_checker(bfcl_samples, raw, official):
    """Scoring raw Java/JS text equals BFCL's decode + ast_checker, verdict and error type."""
    entries, answers = raw
    agree, kinds, gold_valid, errors = 0, Counter(), Counter(), Counter()
    for subset, language in LANGUAGES.items():
        for sample in bfcl_samples[subset]:
            item = item_of(sample)
            assert item.language == language
            for kind, text in text_variants(item):
                result = score_item(item, {"result": text})[0]
                ours = result["valid"], result["error_type"] or None
                theirs = official_verdict(official, entries[item.source_id], answers[item.source_id], text,
                                          language, subset)
                assert ours == theirs, (item.source_id, kind, text)
                kinds[kind, theirs[0]] += 1
                errors[theirs[1]] += 1
                gold_valid[subset] += kind == "gold" and theirs[0]
                agree += 1
    assert agree > 150 * 14
    # Gold text is right for (nearly) every item in both languages, and the wrong variants are wrong.
    # Not all 150: BFCL keeps the quotes of nested strings (`new String[]{"-v"}` → '"-v"'), so its own checker
    # rejects ~10 Java String-array answers; a few values typed `any` are prose that is no Java/JS syntax.
    assert gold_valid["simple_java"] >= 80 and gold_valid["simple_javascript"] >= 45, gold_valid
    assert len(errors) >= 8, errors  # many of the checker's rules are reached, not only the decoder's
    for wrong in ("wrong_name", "dropped_param", "duplicated_param", "positional", "comma_calls"):
        assert kinds[wrong, True] == 0, wrong


def test_known_texts_decode_to_bfcl_values():
    assert parse_text("[Foo.bar(controller=mapController, params=new HashMap<>())]", "java") == [
        {"name": "Foo.bar", "arguments": {"controller": "mapController", "params": "new HashMap<>()"}}]
    assert parse_text('[f(a=new int[]{1, 2}, s="x y", c=\'z\', p)]', "java") == [
        {"name": "f", "arguments": {"a": "new int[]{1,2}", "s": "x y", "c": "z", None: "p"}}]
    assert parse_text("[f(a='x', b=[1, 2]); g(c=1)]", "javascript") == [
        {"name": "f", "arguments": {"a": "x", "b": "[1, 2]"}}]
    assert parse_text("[f(a=1), g(b=2)]", "javascript") == {}  # a sequence, not a call statement: no call
    # The same text read as Python gives Python values: the language really selects the parser.
    assert parse_text("[f(a=1), g(b=2)]") == [{"name": "f", "arguments": {"a": 1}}, {"name": "g", "arguments": {"b": 2}}]
    with pytest.raises(DecodeError):
        parse_text("[f(a=new int[2])]", "java")  # BFCL's traversal fails on an array without initializer
    with pytest.raises(DecodeError):
        parse_text("[f(a=1, a=2)]", "javascript")


def test_missing_tree_sitter_is_a_clear_cli_error(bfcl_samples, tmp_path):
    """Without the extra, `benchmark score` stops with the install hint, not a traceback."""
    data = tmp_path / "java.jsonl"
    write_samples(data, bfcl_samples["simple_java"][:2])
    predictions = tmp_path / "preds.jsonl"
    predictions.write_text("".join(json.dumps({"id": item_of(s).source_id, "result": "[f(a=1)]"}) + "\n"
                                   for s in bfcl_samples["simple_java"][:2]))
    program = ("import sys; sys.modules['tree_sitter'] = None; sys.argv[1:] = " +
               repr(["score", "-d", str(data), "-p", str(predictions), "-q"]) +
               "; from opentoollab.cli import run_group; run_group('benchmark')")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "opentoollab[bfcl-langs]" in done.stderr and "Traceback" not in done.stderr, done.stderr
