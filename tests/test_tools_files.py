"""The seed tree (deterministic, sampled, described by its manifest) and the sandboxed ``files`` toolkit."""

from __future__ import annotations

import collections
import hashlib
import json
import os
from pathlib import Path

import jsonschema
import pytest

from opentoollab.tools import Episode, get_toolkit
from opentoollab.tools import seedtree
from opentoollab.tools.files import MAX_WRITE_BYTES, Files

OUR_TOOLKITS = ["files", "sql", "tables"]


def _hashes(root: Path) -> dict[str, str]:
    found = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            found[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture()
def episode():
    with Episode(["files", "sql", "tables"], {"files": {"seed": 5}}) as ep:
        yield ep


def _manifest(seed: int = 5) -> dict[str, dict]:
    return {entry["path"]: entry for entry in seedtree.tree_manifest({"seed": seed})}


# ---------------------------------------------------------------------------------- the seed tree
def test_full_tree_has_enough_files_types_and_folders(tmp_path):
    written = seedtree.build_tree(tmp_path / "w", {"seed": 0})
    on_disk = sorted(_hashes(tmp_path / "w"))
    assert written == on_disk
    assert len(on_disk) >= 80
    types = collections.Counter(seedtree.file_type(path) for path in on_disk)
    assert set(types) == set(seedtree.FILE_TYPES)
    assert len(types) >= 8 and types["db"] == 1
    assert {path.split("/")[0] for path in on_disk} >= {"projects", "reports", "data", "notes", "images", "archive"}
    assert max(path.count("/") for path in on_disk) >= 3  # nested folders
    # some Chinese content and some Chinese file names
    assert any(not path.isascii() for path in on_disk)
    assert any("会议" in (tmp_path / "w" / path).read_text("utf-8") for path in on_disk if path.endswith(".txt"))


def test_same_seed_builds_byte_identical_trees_and_another_seed_differs(tmp_path):
    seedtree.build_tree(tmp_path / "a", {"seed": 11})
    seedtree._made.cache_clear()  # the second build generates every byte again
    seedtree.build_tree(tmp_path / "b", {"seed": 11})
    seedtree.build_tree(tmp_path / "c", {"seed": 12})
    first, second, other = _hashes(tmp_path / "a"), _hashes(tmp_path / "b"), _hashes(tmp_path / "c")
    assert first == second
    shared = set(first) & set(other)
    assert shared and sum(first[path] != other[path] for path in shared) > len(shared) // 2
    assert first != other


def test_sample_keeps_database_every_type_and_includes(tmp_path):
    config = {"seed": 3, "sample": 10}
    written = seedtree.build_tree(tmp_path / "w", config)
    assert len(written) == 10 and seedtree.DATABASE_PATH in written
    assert {seedtree.file_type(path) for path in written} == set(seedtree.FILE_TYPES[:10])
    twelve = seedtree.select_paths({"seed": 3, "sample": 12})
    assert {seedtree.file_type(path) for path in twelve} == set(seedtree.FILE_TYPES)
    assert seedtree.select_paths(config) == written  # deterministic
    assert seedtree.select_paths({"seed": 3, "sample": 30}) != seedtree.select_paths({"seed": 3, "sample": 31})
    wanted = [path for path in seedtree.tree_paths(3) if path.endswith(".pdf")][-1]
    chosen = seedtree.select_paths({"seed": 3, "sample": 15, "include": [wanted]})
    assert wanted in chosen and len(chosen) == 15
    with pytest.raises(ValueError):
        seedtree.select_paths({"seed": 3, "sample": 15, "include": ["no/such/file.txt"]})


def test_manifest_describes_exactly_the_built_files(tmp_path):
    config = {"seed": 8, "sample": 25}
    written = seedtree.build_tree(tmp_path / "w", config)
    manifest = seedtree.tree_manifest(config)
    assert [entry["path"] for entry in manifest] == written
    for entry in manifest:
        data = (tmp_path / "w" / entry["path"]).read_bytes()
        if entry["type"] == "db":
            assert "size" not in entry and entry["tables"]["employees"]["rows"] >= 20
            continue
        assert entry["size"] == len(data)
        if entry["type"] in seedtree.TEXT_TYPES:
            text = data.decode("utf-8")
            assert entry["lines"] == len(text.splitlines())
            for word in entry["words"] + entry.get("keywords", []):
                assert word in text
        if entry["type"] == "csv":
            assert text.splitlines()[0].split(",") == entry["columns"]
            assert len(text.splitlines()) == entry["rows"] + 1


# ---------------------------------------------------------------------------------- reading every type
def test_every_file_type_is_readable_with_the_right_tool(episode):
    manifest = _manifest()
    seen = set()
    for path, entry in manifest.items():
        kind = entry["type"]
        if kind in seen:
            continue
        seen.add(kind)
        if kind in ("txt", "log", "md", "json", "jsonl", "yaml"):
            result = episode.call("read_file", {"path": path})
            assert result["total_lines"] == entry["lines"], path
            if kind == "json":
                json.loads(result["content"])
            if kind == "jsonl":
                assert all(json.loads(line) for line in result["content"].splitlines())
        elif kind in ("csv", "xlsx"):
            result = episode.call("read_table", {"path": path, "max_rows": 200})
            assert result["columns"] == entry["columns"], path
            assert result["row_count"] == entry["rows"] == len(result["rows"])
            assert result["rows"][0] == entry["first_row"]
            if kind == "xlsx":
                assert result["sheets"] == list(entry["sheets"])
                other = result["sheets"][-1]
                second = episode.call("read_table", {"path": path, "sheet": other, "max_rows": 200})
                assert second["columns"] == entry["sheets"][other]["columns"]
        elif kind == "pdf":
            result = episode.call("read_pdf_text", {"path": path})
            assert result["page_count"] == entry["pages"]
            assert result["pages"][0]["text"].startswith(entry["title"])
            for keyword in entry.get("keywords", []):
                assert keyword in " ".join(page["text"] for page in result["pages"])
        elif kind in ("png", "jpg"):
            result = episode.call("image_info", {"path": path})
            assert {key: result[key] for key in ("format", "width", "height", "mode")} == {
                key: entry[key] for key in ("format", "width", "height", "mode")}
        elif kind == "db":
            tables = episode.call("sql_list_tables", {})["tables"]
            assert {table["name"]: table["row_count"] for table in tables} == {
                name: info["rows"] for name, info in entry["tables"].items()}
    assert seen == set(seedtree.FILE_TYPES)


def test_images_decode_with_pillow_when_available():
    image = pytest.importorskip("PIL.Image")
    import io

    for path in seedtree.tree_paths(2):
        if seedtree.file_type(path) in ("png", "jpg"):
            picture = image.open(io.BytesIO(seedtree.file_bytes(2, path)))
            picture.load()
            assert picture.size[0] > 0


def test_binary_files_point_to_their_tool(episode):
    assert "read_table" in episode.call("read_file", {"path": "data/inventory.xlsx"})["error"]
    assert "SQL" in episode.call("read_file", {"path": "data/company.db"})["error"]
    pdf = next(path for path in _manifest() if path.endswith(".pdf"))
    assert "read_pdf_text" in episode.call("read_file", {"path": pdf})["error"]


def test_read_file_line_ranges(episode):
    path = next(path for path, entry in _manifest().items() if entry["type"] == "log")
    full = episode.call("read_file", {"path": path})["content"].splitlines()
    part = episode.call("read_file", {"path": path, "start_line": 3, "end_line": 5})
    assert part["content"].splitlines() == full[2:5] and (part["start_line"], part["end_line"]) == (3, 5)
    assert "error" in episode.call("read_file", {"path": path, "start_line": 10_000})


# ---------------------------------------------------------------------------------- listing, finding, grep
def test_listing_and_find_are_sorted_relative_and_machine_independent(episode):
    listing = episode.call("list_directory", {"path": "", "recursive": True})
    paths = [entry["path"] for entry in listing["entries"]]
    assert paths == sorted(paths) and not any(p.startswith("/") or "\\" in p for p in paths)
    files = [entry for entry in listing["entries"] if entry["type"] == "file"]
    assert len(files) == len(_manifest())
    db = next(entry for entry in files if entry["path"] == seedtree.DATABASE_PATH)
    assert db["size"] is None  # its bytes depend on the SQLite version
    text = json.dumps(listing)
    assert "mtime" not in text and str(episode.root) not in text
    episode.call("copy_file", {"source": seedtree.DATABASE_PATH, "destination": "backup.bak"})
    copied = episode.call("list_directory", {"path": ""})["entries"]
    assert next(entry for entry in copied if entry["path"] == "backup.bak")["size"] is None
    found = episode.call("find_files", {"extension": ".CSV"})
    assert found["files"] == sorted(p for p in _manifest() if p.endswith(".csv"))
    named = episode.call("find_files", {"name": "*REPORT*", "path": "reports"})
    assert named["files"] and all("report" in p.lower() and p.startswith("reports/") for p in named["files"])


def test_grep_plain_regex_and_bounds(episode):
    manifest = _manifest()
    logs = {path: entry for path, entry in manifest.items() if entry["type"] == "log" and "levels" in entry}
    assert logs
    for path, entry in logs.items():  # the level column of an app log, counted exactly
        hits = episode.call("grep_files", {"pattern": r"^\S+ ERROR ", "regex": True, "path": path, "max_hits": 200})
        assert hits["match_count"] == entry["levels"]["ERROR"] == len(hits["matches"]), path
        assert hits["files_searched"] == 1 and all(hit["path"] == path for hit in hits["matches"])
    capped = episode.call("grep_files", {"pattern": "ERROR", "max_hits": 2})
    assert len(capped["matches"]) == 2 and capped["truncated"] and capped["match_count"] > 2
    assert capped["files_matched"] >= len(logs)
    notes = {path: entry for path, entry in manifest.items() if path.endswith("/notes.txt")}
    for path, entry in notes.items():  # a ticket code planted in each project's notes
        found = episode.call("grep_files", {"pattern": r"\b[A-Z]{3}-[0-9]{3}\b", "regex": True, "path": "projects"})
        assert any(hit["path"] == path and entry["keywords"][0] in hit["text"] for hit in found["matches"])
    lower = episode.call("grep_files", {"pattern": "error", "path": "logs"})
    either = episode.call("grep_files", {"pattern": "error", "path": "logs", "ignore_case": True})
    assert either["match_count"] > lower["match_count"]
    assert "exponential" in episode.call("grep_files", {"pattern": "(a+)+$", "regex": True})["error"]
    assert "exponential" in episode.call("grep_files", {"pattern": "(x|xx)*y", "regex": True})["error"]
    assert "invalid regular expression" in episode.call("grep_files", {"pattern": "(", "regex": True})["error"]
    assert "error" not in episode.call("grep_files", {"pattern": "(", "regex": False})  # plain text: literal
    assert "binary" in episode.call("grep_files", {"pattern": "x", "path": "data/company.db"})["error"]


# ---------------------------------------------------------------------------------- editing
def test_write_move_copy_delete_and_text_utilities(episode):
    call = episode.call
    assert call("write_file", {"path": "scratch/a.txt", "content": "pear\napple\n10 fig\n2 kiwi\napple\n"})["created"]
    assert call("write_file", {"path": "scratch/a.txt", "content": "plum\n", "append": True})["size"] == 36
    counts = call("count_words", {"path": "scratch/a.txt"})
    assert (counts["lines"], counts["words"], counts["characters"]) == (6, 8, 36)
    assert call("sort_lines", {"path": "scratch/a.txt", "unique": True})["lines"] == [
        "10 fig", "2 kiwi", "apple", "pear", "plum"]
    numeric = call("sort_lines", {"path": "scratch/a.txt", "numeric": True, "output_path": "scratch/sorted.txt"})
    assert numeric["lines"][:2] == ["2 kiwi", "10 fig"] and numeric["written_to"] == "scratch/sorted.txt"
    diff = call("diff_files", {"path_a": "scratch/a.txt", "path_b": "scratch/sorted.txt"})
    assert not diff["identical"] and diff["diff"][0] == "--- scratch/a.txt" and diff["added"] >= 1
    assert call("diff_files", {"path_a": "scratch/a.txt", "path_b": "scratch/a.txt"})["identical"]
    assert call("copy_file", {"source": "scratch/a.txt", "destination": "scratch/b.txt"})["copied"]
    assert "already exists" in call("copy_file", {"source": "scratch/a.txt", "destination": "scratch/b.txt"})["error"]
    assert call("make_directory", {"path": "scratch/sub/deeper"})["created"]
    moved = call("move_file", {"source": "scratch/b.txt", "destination": "scratch/sub"})
    assert moved["destination"] == "scratch/sub/b.txt"
    assert "into itself" in call("move_file", {"source": "scratch", "destination": "scratch/sub"})["error"]
    assert "not empty" in call("delete_file", {"path": "scratch"})["error"]
    assert call("delete_file", {"path": "scratch", "recursive": True})["files_removed"] == 3
    assert not (episode.root / "scratch").exists()
    assert "root" in call("delete_file", {"path": "."})["error"]
    assert (episode.root / "data").is_dir()


def test_write_limits(episode):
    too_big = "x" * (MAX_WRITE_BYTES + 1)
    assert "too large" in episode.call("write_file", {"path": "big.txt", "content": too_big})["error"]
    assert not (episode.root / "big.txt").exists()
    assert "cannot create a .xlsx" in episode.call("write_file", {"path": "fake.xlsx", "content": "x"})["error"]
    assert "is a directory" in episode.call("write_file", {"path": "data", "content": "x"})["error"]


# ---------------------------------------------------------------------------------- the sandbox
@pytest.mark.parametrize("path", ["..", "../etc/passwd", "data/../../x", "/etc/passwd", "~/x", "C:/x", "a\\b",
                                  "data/\x00x"])
def test_paths_leaving_the_root_are_refused(episode, path):
    for tool, args in [("read_file", {"path": path}), ("list_directory", {"path": path}),
                       ("write_file", {"path": path, "content": "x"}), ("delete_file", {"path": path}),
                       ("grep_files", {"pattern": "x", "path": path}), ("table_columns", {"path": path})]:
        result = episode.call(tool, args)
        assert "error" in result, (tool, path)
    assert not (episode.root.parent / "x").exists()


def test_dot_dot_inside_the_root_is_fine(episode):
    direct = episode.call("list_directory", {"path": "data"})
    assert episode.call("list_directory", {"path": "notes/../data/."}) == direct


@pytest.fixture()
def planted(episode, tmp_path):
    """A secret file and folder outside the workspace, and symlinks to them planted inside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOP SECRET\n")
    (outside / "secret.csv").write_text("code\nTOP SECRET\n")
    os.symlink(outside / "secret.txt", episode.root / "notes" / "link.txt")
    os.symlink(outside, episode.root / "linkdir")
    return outside


def test_symlinks_are_never_followed(episode, planted):
    call = episode.call
    for tool, args in [("read_file", {"path": "notes/link.txt"}), ("read_file", {"path": "linkdir/secret.txt"}),
                       ("list_directory", {"path": "linkdir"}), ("count_words", {"path": "notes/link.txt"}),
                       ("write_file", {"path": "linkdir/new.txt", "content": "x"}),
                       ("write_file", {"path": "notes/link.txt", "content": "x"}),
                       ("copy_file", {"source": "notes/link.txt", "destination": "copy.txt"}),
                       ("copy_file", {"source": "notes/todo.txt", "destination": "linkdir/todo.txt"}),
                       ("move_file", {"source": "notes/todo.txt", "destination": "linkdir"}),
                       ("delete_file", {"path": "linkdir/secret.txt"}),
                       ("grep_files", {"pattern": "SECRET", "path": "linkdir"}),
                       ("table_columns", {"path": "linkdir/secret.csv"}),
                       ("read_table", {"path": "linkdir/secret.csv"})]:
        result = call(tool, args)
        assert "symbolic link" in result.get("error", ""), (tool, args, result)
    assert (planted / "secret.txt").read_text() == "TOP SECRET\n" and sorted(os.listdir(planted)) == ["secret.csv", "secret.txt"]
    everything = call("grep_files", {"pattern": "SECRET"})
    assert everything["match_count"] == 0
    listing = call("list_directory", {"path": "", "recursive": True})["entries"]
    kinds = {entry["path"]: entry["type"] for entry in listing}
    assert kinds["linkdir"] == "symlink" and kinds["notes/link.txt"] == "symlink"
    assert not any(path.startswith("linkdir/") for path in kinds)
    assert "notes/link.txt" not in call("find_files", {"extension": "txt"})["files"]
    assert "symbolic link" in call("copy_file", {"source": "notes", "destination": "notes2"})["error"]


def test_special_files_do_not_hang_or_crash(episode):
    os.mkfifo(episode.root / "notes" / "pipe.txt")
    assert "not a regular file" in episode.call("read_file", {"path": "notes/pipe.txt"})["error"]
    assert "error" not in episode.call("grep_files", {"pattern": "x", "path": "notes"})  # skipped, not blocking
    with Episode(["sql"], {"files": {"seed": 1, "sample": 12}, "sql": {"database": "data/pipe.db"}}) as ep:
        os.mkfifo(ep.root / "data" / "pipe.db")
        assert "not a regular file" in ep.call("sql_list_tables", {})["error"]


def test_sql_database_behind_a_symlink_is_refused(tmp_path):
    with Episode(["sql"], {"files": {"seed": 1, "sample": 12}, "sql": {"database": "data/link.db"}}) as ep:
        os.symlink(ep.root / seedtree.DATABASE_PATH, ep.root / "data" / "link.db")
        assert "symbolic link" in ep.call("sql_list_tables", {})["error"]


# ---------------------------------------------------------------------------------- declarations, episodes
def test_declarations_are_valid_json_schema_with_described_parameters():
    names = []
    for toolkit in OUR_TOOLKITS:
        cls = get_toolkit(toolkit)
        assert cls.tools(), toolkit
        for declaration in cls.tools():
            names.append(declaration["name"])
            assert len(declaration["description"]) > 20, declaration["name"]
            parameters = declaration["parameters"]
            jsonschema.Draft202012Validator.check_schema(parameters)
            assert parameters["type"] == "object"
            for name, schema in parameters["properties"].items():
                assert schema.get("description"), (declaration["name"], name)
                assert "type" in schema or "anyOf" in schema, (declaration["name"], name)
    assert len(names) == len(set(names))
    op = get_toolkit("tables").declaration("table_filter")["parameters"]["properties"]["op"]
    assert op["enum"] == ["==", "!=", ">", ">=", "<", "<=", "contains"]


def test_invalid_arguments_become_error_results(episode):
    assert "error" in episode.call("read_file", {})
    assert "error" in episode.call("read_file", {"path": 3})
    assert "unexpected" in episode.call("read_file", {"path": "x", "mode": "r"})["error"]


def test_episode_removes_its_folder_and_results_are_deterministic():
    script = [("list_directory", {"path": "notes", "recursive": True}), ("grep_files", {"pattern": "the"}),
              ("read_table", {"path": "data/employees.csv", "max_rows": 5}),
              ("sql_query", {"query": "SELECT category, SUM(price), AVG(price) FROM products GROUP BY category "
                                      "ORDER BY category"}),
              ("table_aggregate", {"path": "data/inventory.csv", "metric": "mean", "column": "unit_cost",
                                   "group_by": ["category"]})]
    outputs = []
    roots = []
    for _ in range(2):
        episode = Episode(["files", "sql", "tables"], {"files": {"seed": 9, "sample": 30,
                                                                "include": ["data/employees.csv", "data/inventory.csv"]}})
        roots.append(episode.root)
        assert episode.root.is_dir()
        outputs.append(json.dumps([episode.call(tool, args) for tool, args in script], ensure_ascii=False))
        episode.close()
        assert not episode.root.exists() and not episode.root.parent.exists()
    assert roots[0] != roots[1]
    assert outputs[0] == outputs[1] and '"error"' not in outputs[0]


def test_files_toolkit_needs_a_workspace():
    from opentoollab.tools import ToolkitError

    with pytest.raises(ToolkitError):
        Files()
