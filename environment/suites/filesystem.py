"""A shell-like file system: a directory tree under /workspace with a current working directory.

Structure that makes data hard (the paper's Figure 10): the commands that read or change a file take a
plain file name and work only in the current directory, so a file named by the user has to be found
(``find``, ``ls``) and its folder entered with ``cd`` before ``cat``, ``tail`` and the rest can touch it.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import posixpath
from typing import Any, Literal

from pydantic import JsonValue

from hardgen.environment.base import Dependency, Suite, ToolError, collect_entities
from hardgen.environment.registry import register_suite
from hardgen.schema import canonical_json

ROOT = "/workspace"
_IN_CWD_TOOLS = ("cat", "head", "tail", "wc", "grep", "sort", "diff", "stat", "rm", "mv", "cp")
_NAME_PARAMS = (
    ("cat", "file_name"),
    ("head", "file_name"),
    ("tail", "file_name"),
    ("wc", "file_name"),
    ("grep", "file_name"),
    ("sort", "file_name"),
    ("diff", "file_name1"),
    ("diff", "file_name2"),
    ("stat", "name"),
    ("rm", "file_name"),
    ("mv", "source"),
    ("cp", "source"),
    ("cd", "folder"),
    ("rmdir", "dir_name"),
)
_MAX_LINES = 1000


def _parent(path: str) -> str:
    return posixpath.dirname(path)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} MB"


@register_suite
class FileSystemSuite(Suite):
    name = "filesystem"
    domain = "file system"
    description = "Navigate, read, search and change files in a workspace directory tree, like a shell."
    dependencies = (
        *(Dependency("cd", tool, "prerequisite") for tool in _IN_CWD_TOOLS),
        *(Dependency("ls", tool, "value", "entries[].name", param) for tool, param in _NAME_PARAMS),
        Dependency("find", "cd", "value", "matches[]", "folder"),
        Dependency("find", "du", "value", "matches[]", "path"),
        Dependency("pwd", "find", "value", "current_working_directory", "path"),
        Dependency("mkdir", "cd", "value", "dir_name", "folder"),
        Dependency("mkdir", "mv", "value", "dir_name", "destination"),
        Dependency("mkdir", "cp", "value", "dir_name", "destination"),
        Dependency("touch", "echo", "value", "file_name", "file_name"),
        Dependency("echo", "cat", "value", "file_name", "file_name"),
    )

    # State (public attributes, set from data/filesystem.json): every path is absolute.
    cwd: str
    directories: list[str]
    files: dict[str, dict[str, Any]]

    # -------------------------------------------------------------- helpers (private: not tools)

    def _resolve(self, path: str) -> str:
        """An absolute, normalised path for ``path`` (absolute, or relative to the cwd)."""
        if not path.strip():
            raise ToolError("The path is empty.", "invalid")
        full = posixpath.normpath(posixpath.join(self.cwd, path.strip()))
        if full != ROOT and not full.startswith(ROOT + "/"):
            raise ToolError(f"{path!r} is outside the workspace {ROOT}.", "permission")
        return full

    def _is_dir(self, path: str) -> bool:
        return path in self.directories

    def _child(self, name: str, tool: str) -> str:
        """The absolute path of a plain name in the current directory."""
        if not name or "/" in name or name in (".", ".."):
            raise ToolError(
                f"{tool} takes a plain name in the current directory, not a path ({name!r}); "
                "cd to the folder first.",
                "invalid",
            )
        return posixpath.join(self.cwd, name)

    def _file_here(self, name: str, tool: str) -> str:
        """The path of a file in the current directory, or the error a shell user would get."""
        path = self._child(name, tool)
        if path in self.files:
            return path
        if self._is_dir(path):
            raise ToolError(f"{name} is a directory, not a file.", "invalid")
        self._missing(name, tool)
        return path  # unreachable: _missing always raises

    def _missing(self, name: str, tool: str) -> None:
        elsewhere = any(posixpath.basename(p) == name for p in [*self.files, *self.directories])
        if elsewhere:
            raise ToolError(
                f"{name!r} is not in the current directory {self.cwd}: {tool} only works on entries of the "
                "current directory, so cd to the folder that holds it first.",
                "precondition",
            )
        raise ToolError(f"No such file or directory: {name!r}.", "not_found")

    def _entry_here(self, name: str, tool: str) -> str:
        path = self._child(name, tool)
        if path in self.files or self._is_dir(path):
            return path
        self._missing(name, tool)
        return path

    def _lines(self, path: str) -> list[str]:
        return str(self.files[path]["content"]).splitlines()

    @staticmethod
    def _check_count(lines: int) -> None:
        if not 1 <= lines <= _MAX_LINES:
            raise ToolError(f"lines must be between 1 and {_MAX_LINES}.", "invalid")

    def _below(self, base: str) -> tuple[list[str], list[str]]:
        """Directories and files strictly below ``base``."""
        prefix = base.rstrip("/") + "/"
        return [d for d in self.directories if d.startswith(prefix)], [
            f for f in self.files if f.startswith(prefix)
        ]

    def _destination(self, source: str, destination: str, tool: str) -> str:
        """Where ``source`` goes: into an existing directory, or renamed within the current directory."""
        target_dir = self._resolve(destination) if destination not in ("", ".") else self.cwd
        if self._is_dir(target_dir):
            target = posixpath.join(target_dir, posixpath.basename(source))
        else:
            target = self._child(destination, tool)
        if target == source:
            raise ToolError(f"{tool}: source and destination are the same.", "invalid")
        if self._is_dir(source) and (target + "/").startswith(source + "/"):
            raise ToolError(f"{tool}: cannot put a directory inside itself.", "invalid")
        if target in self.files or self._is_dir(target):
            raise ToolError(f"{tool}: {target} already exists.", "conflict")
        return target

    def _add_dir(self, path: str) -> None:
        self.directories.append(path)
        self.directories.sort()

    def entities(self) -> dict[str, list[JsonValue]]:
        found = collect_entities(json.loads(canonical_json(self.snapshot()["state"])))  # key order free
        names = sorted({posixpath.basename(p) for p in self.files})
        dirs = sorted({posixpath.basename(p) for p in self.directories if p != ROOT})
        found["file_name"] = list(names)
        found["folder"] = [*dirs, "..", *sorted(self.directories)]
        found["dir_name"] = list(dirs)
        found["name"] = [*names, *dirs]
        found["path"] = [".", *sorted(self.directories)]
        return found

    # -------------------------------------------------------------- navigation

    def pwd(self) -> dict[str, Any]:
        """Print the current working directory.

        Returns:
            The absolute path of the current directory.
        """
        return {"current_working_directory": self.cwd}

    def ls(self, show_hidden: bool = False) -> dict[str, Any]:
        """List the entries of the current directory.

        Args:
            show_hidden: Also list names starting with a dot.

        Returns:
            The current directory and its entries (name and type: file or directory), sorted by name.
        """
        entries = [
            {"name": posixpath.basename(d), "type": "directory"}
            for d in self.directories
            if _parent(d) == self.cwd
        ]
        entries += [
            {"name": posixpath.basename(f), "type": "file"} for f in self.files if _parent(f) == self.cwd
        ]
        if not show_hidden:
            entries = [e for e in entries if not e["name"].startswith(".")]
        return {"current_directory": self.cwd, "entries": sorted(entries, key=lambda e: e["name"])}

    def cd(self, folder: str) -> dict[str, Any]:
        """Change the current working directory.

        Args:
            folder: The directory to enter: a subfolder name, a relative path such as "data/raw" or "..",
                or an absolute path under /workspace.

        Returns:
            The new current working directory.
        """
        path = self._resolve(folder)
        if path in self.files:
            raise ToolError(f"{folder} is a file, not a directory.", "invalid")
        if not self._is_dir(path):
            raise ToolError(f"No such directory: {folder!r} (from {self.cwd}).", "not_found")
        self.cwd = path
        return {"current_working_directory": path}

    def find(self, path: str = ".", name: str | None = None) -> dict[str, Any]:
        """Search a directory and all its subdirectories for files and directories.

        Args:
            path: The directory to search, relative to the current directory or absolute.
            name: Keep only entries whose name contains this text, or matches it as a glob pattern
                such as "*.csv"; all entries when omitted.

        Returns:
            The matching paths, each starting with the given path, sorted.
        """
        base = self._resolve(path)
        if not self._is_dir(base):
            raise ToolError(f"No such directory: {path!r}.", "not_found")
        dirs, files = self._below(base)
        shown = path.strip().rstrip("/") or "/"
        matches = []
        for full in [*dirs, *files]:
            entry = posixpath.basename(full)
            if name is not None:
                pattern = any(c in name for c in "*?[")
                if not (fnmatch.fnmatchcase(entry, name) if pattern else name in entry):
                    continue
            matches.append(posixpath.join(shown, posixpath.relpath(full, base)))
        return {"matches": sorted(matches)}

    def du(self, path: str = ".", human_readable: bool = False) -> dict[str, Any]:
        """Report the disk usage of a directory and everything below it.

        Args:
            path: The directory, relative to the current directory or absolute.
            human_readable: Also give the size as text such as "3.2 KB".

        Returns:
            The directory, its size in bytes and its number of files.
        """
        base = self._resolve(path)
        if not self._is_dir(base):
            raise ToolError(f"No such directory: {path!r}.", "not_found")
        _, files = self._below(base)
        size = sum(len(str(self.files[f]["content"]).encode("utf-8")) for f in files)
        result: dict[str, Any] = {"path": base, "bytes": size, "files": len(files)}
        if human_readable:
            result["size"] = _human(size)
        return result

    # -------------------------------------------------------------- reading files

    def cat(self, file_name: str) -> dict[str, Any]:
        """Show the whole content of a file in the current directory.

        Args:
            file_name: The name of a file in the current directory (not a path).

        Returns:
            The file's content.
        """
        return {"file_content": self.files[self._file_here(file_name, "cat")]["content"]}

    def head(self, file_name: str, lines: int = 10) -> dict[str, Any]:
        """Show the first lines of a file in the current directory.

        Args:
            file_name: The name of a file in the current directory (not a path).
            lines: How many lines, from 1 to 1000.

        Returns:
            The first lines, joined by newlines.
        """
        path = self._file_here(file_name, "head")
        self._check_count(lines)
        return {"first_lines": "\n".join(self._lines(path)[:lines])}

    def tail(self, file_name: str, lines: int = 10) -> dict[str, Any]:
        """Show the last lines of a file in the current directory.

        Args:
            file_name: The name of a file in the current directory (not a path).
            lines: How many lines, from 1 to 1000.

        Returns:
            The last lines, joined by newlines.
        """
        path = self._file_here(file_name, "tail")
        self._check_count(lines)
        return {"last_lines": "\n".join(self._lines(path)[-lines:])}

    def wc(self, file_name: str, mode: Literal["lines", "words", "chars"] = "lines") -> dict[str, Any]:
        """Count the lines, words or characters of a file in the current directory.

        Args:
            file_name: The name of a file in the current directory (not a path).
            mode: What to count.

        Returns:
            The count and what was counted.
        """
        content = str(self.files[self._file_here(file_name, "wc")]["content"])
        count = {"lines": len(content.splitlines()), "words": len(content.split()), "chars": len(content)}[
            mode
        ]
        return {"file_name": file_name, "count": count, "mode": mode}

    def grep(self, file_name: str, pattern: str, ignore_case: bool = False) -> dict[str, Any]:
        """Find the lines of a file in the current directory that contain a text.

        Args:
            file_name: The name of a file in the current directory (not a path).
            pattern: The text to look for (plain text, not a regular expression).
            ignore_case: Match regardless of upper and lower case.

        Returns:
            The matching lines with their line numbers, and how many there are.
        """
        path = self._file_here(file_name, "grep")
        if not pattern:
            raise ToolError("The pattern is empty.", "invalid")
        needle = pattern.lower() if ignore_case else pattern
        found = [
            {"line_number": i, "line": line}
            for i, line in enumerate(self._lines(path), start=1)
            if needle in (line.lower() if ignore_case else line)
        ]
        return {"file_name": file_name, "matching_lines": found, "count": len(found)}

    def sort(self, file_name: str, reverse: bool = False) -> dict[str, Any]:
        """Show the lines of a file in the current directory in sorted order (the file is not changed).

        Args:
            file_name: The name of a file in the current directory (not a path).
            reverse: Sort in descending order.

        Returns:
            The sorted lines, joined by newlines.
        """
        path = self._file_here(file_name, "sort")
        return {"sorted_content": "\n".join(sorted(self._lines(path), reverse=reverse))}

    def diff(self, file_name1: str, file_name2: str) -> dict[str, Any]:
        """Compare two files of the current directory line by line.

        Args:
            file_name1: The name of the first file in the current directory.
            file_name2: The name of the second file in the current directory.

        Returns:
            Whether they are identical and their differences in unified diff format.
        """
        first = self._file_here(file_name1, "diff")
        second = self._file_here(file_name2, "diff")
        lines = difflib.unified_diff(
            self._lines(first), self._lines(second), fromfile=file_name1, tofile=file_name2, lineterm=""
        )
        text = "\n".join(lines)
        return {"identical": not text, "diff_lines": text}

    def stat(self, name: str) -> dict[str, Any]:
        """Show information about a file or directory in the current directory.

        Args:
            name: The name of an entry of the current directory (not a path).

        Returns:
            Its absolute path, type, size in bytes and, for a file, its line count or, for a directory,
            its number of entries.
        """
        path = self._entry_here(name, "stat")
        if path in self.files:
            content = str(self.files[path]["content"])
            return {
                "path": path,
                "type": "file",
                "size_bytes": len(content.encode("utf-8")),
                "lines": len(content.splitlines()),
            }
        dirs, files = self._below(path)
        entries = sum(1 for p in [*dirs, *files] if _parent(p) == path)
        size = sum(len(str(self.files[f]["content"]).encode("utf-8")) for f in files)
        return {"path": path, "type": "directory", "size_bytes": size, "entries": entries}

    # -------------------------------------------------------------- changing the tree

    def mkdir(self, dir_name: str) -> dict[str, Any]:
        """Create a directory in the current directory.

        Args:
            dir_name: The new directory's name (not a path).

        Returns:
            The new directory's name and absolute path.
        """
        path = self._child(dir_name, "mkdir")
        if path in self.files or self._is_dir(path):
            raise ToolError(f"{dir_name} already exists in {self.cwd}.", "conflict")
        self._add_dir(path)
        return {"dir_name": dir_name, "path": path}

    def rmdir(self, dir_name: str) -> dict[str, Any]:
        """Remove an empty directory of the current directory.

        Args:
            dir_name: The directory's name (not a path).

        Returns:
            The removed directory's path.
        """
        path = self._child(dir_name, "rmdir")
        if path in self.files:
            raise ToolError(f"{dir_name} is a file; use rm.", "invalid")
        if not self._is_dir(path):
            raise ToolError(f"No such directory in {self.cwd}: {dir_name!r}.", "not_found")
        dirs, files = self._below(path)
        if dirs or files:
            raise ToolError(f"Directory {dir_name} is not empty.", "conflict")
        self.directories.remove(path)
        return {"removed": path}

    def touch(self, file_name: str) -> dict[str, Any]:
        """Create an empty file in the current directory if it does not exist yet.

        Args:
            file_name: The file's name (not a path).

        Returns:
            The file's name and whether it was created.
        """
        path = self._child(file_name, "touch")
        if self._is_dir(path):
            raise ToolError(f"{file_name} is a directory.", "conflict")
        created = path not in self.files
        if created:
            self.files[path] = {"content": ""}
        return {"file_name": file_name, "created": created}

    def echo(self, content: str, file_name: str | None = None, append: bool = False) -> dict[str, Any]:
        """Print text, or write it (followed by a newline) to a file in the current directory.

        Args:
            content: The text.
            file_name: The file to write to (created if missing); print to the terminal when omitted.
            append: Add to the end of the file instead of replacing its content.

        Returns:
            The printed text, or the file written and its new size in bytes.
        """
        if file_name is None:
            return {"terminal_output": content}
        path = self._child(file_name, "echo")
        if self._is_dir(path):
            raise ToolError(f"{file_name} is a directory.", "conflict")
        old = str(self.files.get(path, {}).get("content", "")) if append else ""
        self.files[path] = {"content": f"{old}{content}\n"}
        return {"file_name": file_name, "size_bytes": len(self.files[path]["content"].encode("utf-8"))}

    def mv(self, source: str, destination: str) -> dict[str, Any]:
        """Move or rename a file or directory of the current directory.

        Args:
            source: The name of a file or directory in the current directory.
            destination: An existing directory to move it into (a name, relative path or absolute path),
                or a new name to rename it to within the current directory.

        Returns:
            The old and new absolute paths.
        """
        old = self._entry_here(source, "mv")
        new = self._destination(old, destination, "mv")
        if old in self.files:
            self.files[new] = self.files.pop(old)
        else:
            dirs, files = self._below(old)
            for d in [old, *dirs]:
                self.directories.remove(d)
                self._add_dir(new + d[len(old) :])
            for f in files:
                self.files[new + f[len(old) :]] = self.files.pop(f)
            if (self.cwd + "/").startswith(old + "/"):
                self.cwd = new + self.cwd[len(old) :]
        return {"from": old, "to": new}

    def cp(self, source: str, destination: str) -> dict[str, Any]:
        """Copy a file or directory (with everything in it) of the current directory.

        Args:
            source: The name of a file or directory in the current directory.
            destination: An existing directory to copy it into (a name, relative path or absolute path),
                or a new name for the copy within the current directory.

        Returns:
            The source and the copy's absolute paths.
        """
        old = self._entry_here(source, "cp")
        new = self._destination(old, destination, "cp")
        if old in self.files:
            self.files[new] = dict(self.files[old])
        else:
            dirs, files = self._below(old)
            for d in [old, *dirs]:
                self._add_dir(new + d[len(old) :])
            for f in files:
                self.files[new + f[len(old) :]] = dict(self.files[f])
        return {"from": old, "to": new}

    def rm(self, file_name: str) -> dict[str, Any]:
        """Delete a file of the current directory (use rmdir for directories).

        Args:
            file_name: The name of a file in the current directory (not a path).

        Returns:
            The deleted file's path.
        """
        path = self._child(file_name, "rm")
        if self._is_dir(path):
            raise ToolError(f"{file_name} is a directory; use rmdir.", "invalid")
        path = self._file_here(file_name, "rm")
        del self.files[path]
        return {"removed": path}
