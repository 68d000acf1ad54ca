"""The README's commands exist and work as written, and CI runs the README's test command."""

from __future__ import annotations

import re
import shlex

import click
import pytest
from click.testing import CliRunner
from conftest import REPO

from simulator.cli import cli

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```bash\n(.*?)```", README, re.S)


def test_readme_starts_with_the_two_commands():
    """The first block installs and runs the baseline; the second installs test extras and runs pytest."""
    run_command, test_command = BLOCKS[0].strip(), BLOCKS[1].strip()
    assert run_command.endswith("safer-streets run")
    assert "'.[test]'" in test_command and test_command.endswith("pytest")


def test_ci_runs_the_readme_test_command():
    """.ci/run calls exactly the README's test command."""
    assert BLOCKS[1].strip() in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def safer_streets_lines():
    for block in BLOCKS[2:]:
        for line in block.splitlines():
            if "safer-streets " in line:
                yield line.split("#")[0].strip()


@pytest.mark.parametrize("line", list(safer_streets_lines()))
def test_readme_commands_parse(line):
    """Every `safer-streets` command shown in the README exists and accepts its options."""
    words = shlex.split(line)
    arguments = words[words.index(next(w for w in words if w.endswith("safer-streets"))) + 1 :]
    path, command = [], cli
    for word in arguments:
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        path.append(word)
        command = command.commands[word]
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    for option in (word.split("=")[0] for word in arguments if word.startswith("--")):
        assert option in result.output, option


def test_readme_example_scenarios_exist():
    """Every scenario or config file the README names is in scenarios/ or configs/."""
    for name in set(re.findall(r"(kent-[a-z0-9-]+)\.toml", README)):
        assert (REPO / "scenarios" / f"{name}.toml").is_file() or (REPO / "configs" / f"{name}.toml").is_file(), name


CONSOLE = re.findall(r"```console\n(.*?)```", README, re.S)


def console_examples():
    """(command, expected stderr) pairs from the README's console blocks."""
    for block in CONSOLE:
        command, expected = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    yield command, "\n".join(expected)
                command, expected = line[2:], []
            else:
                expected.append(line)
        if command:
            yield command, "\n".join(expected)


@pytest.mark.parametrize("command, expected", list(console_examples()))
def test_readme_error_examples_are_what_the_tool_prints(command, expected, monkeypatch):
    """Each error the README shows is printed exactly so, with exit code 2, from the project folder."""
    monkeypatch.chdir(REPO)
    words = shlex.split(command)
    assert words[0] == "safer-streets"
    result = CliRunner().invoke(cli, words[1:])
    assert result.exit_code == 2, result.output
    assert result.stderr.rstrip("\n") == expected


def test_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's Python block runs as written (from a folder laid out like the project) and writes what it says."""
    (block,) = re.findall(r"```python\n(.*?)```", README, re.S)
    for name in ("scenarios", "configs"):
        (tmp_path / name).symlink_to(REPO / name)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "reports" / "my-run" / "summary.json").is_file()
    assert (tmp_path / "reports" / "my-comparison" / "comparison.csv").is_file()
