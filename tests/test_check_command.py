"""`madoguchi check`: every problem of every file, as FILE:LINE:COL: error|warning: MESSAGE.

The command runs through Flask's CLI runner (the app of the test session)
and once as the real installed command in a subprocess.  Fixture files are
in tests/data/valid and tests/data/broken; each test copies the ones it
needs into its own folder so that file names in the output are known.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from flask.testing import FlaskCliRunner

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
LINE = re.compile(r"^.+:\d+:\d+: (error|warning): .+$")
SUMMARY = re.compile(r"^(\d+) procedures? checked: (\d+) ok, (\d+) errors?, (\d+) warnings?$")


def copy(folder: Path, *names: str) -> list[Path]:
    """Copy fixture files (`valid/x.yaml`, `broken/y.yaml`) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in names:
        target = folder / Path(name).name
        shutil.copyfile(DATA / name, target)
        copied.append(target)
    return copied


def split(output: str) -> tuple[list[str], re.Match[str]]:
    """The diagnostic lines and the parsed summary line of the command's output."""
    lines = output.strip().splitlines()
    assert lines, "no output"
    summary = SUMMARY.match(lines[-1])
    assert summary is not None, f"no summary line in:\n{output}"
    diagnostics = lines[:-1]
    for line in diagnostics:
        assert LINE.match(line), f"not a diagnostic line: {line!r}"
    return diagnostics, summary


def counts(summary: re.Match[str]) -> tuple[int, int, int, int]:
    checked, ok, errors, warnings = (int(g) for g in summary.groups())
    return checked, ok, errors, warnings


def assert_bad_expression_errors(diagnostics: list[str], path: str) -> None:
    """The two mistakes of broken/bad-expression.yaml, each at its place."""
    assert len(diagnostics) == 2, diagnostics
    key, name = diagnostics
    assert key.startswith(f"{path}:15:9: error: unknown key 'requird'")
    assert key.endswith("(did you mean 'required'?)")
    assert name == f"{path}:24:70: error: if: unknown name 'day' (did you mean 'days'?)"


def test_the_shipped_procedures_pass(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["check"])
    shipped = sorted((PROJECT_ROOT / "procedures").glob("*.yaml"))
    diagnostics, summary = split(result.output)
    assert [d for d in diagnostics if ": error: " in d] == []
    assert counts(summary)[:3] == (len(shipped), len(shipped), 0)
    assert len(shipped) >= 1
    assert f"{len(shipped)} procedures checked" in summary.group(0)
    assert result.exit_code == 0, result.output


def test_the_shipped_procedures_pass_when_named_explicitly(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["check", str(PROJECT_ROOT / "procedures")])
    _, summary = split(result.output)
    checked, ok, errors, _ = counts(summary)
    assert (ok, errors) == (checked, 0)
    assert result.exit_code == 0, result.output


def test_a_valid_file_passes_with_exit_status_0(runner: FlaskCliRunner, tmp_path: Path) -> None:
    [path] = copy(tmp_path, "valid/parking-permit.yaml")
    result = runner.invoke(args=["check", str(path)])
    assert result.output == "1 procedure checked: 1 ok, 0 errors, 0 warnings\n"
    assert result.exit_code == 0


def test_a_broken_file_is_reported_and_the_good_one_beside_it_still_loads(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    copy(tmp_path, "valid/parking-permit.yaml", "broken/bad-expression.yaml")
    result = runner.invoke(args=["check", str(tmp_path)])
    diagnostics, summary = split(result.output)
    broken = tmp_path / "bad-expression.yaml"
    assert_bad_expression_errors(diagnostics, str(broken))
    assert counts(summary) == (2, 1, 2, 0)
    assert result.exit_code == 1


def test_one_broken_file_never_hides_the_errors_of_another(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    copy(tmp_path, "broken/bad-yaml.yaml", "broken/bad-expression.yaml")
    result = runner.invoke(args=["check", str(tmp_path)])
    diagnostics, summary = split(result.output)
    # Files are checked in name order: bad-expression.yaml, then bad-yaml.yaml.
    assert [line.split(": error: ")[0] for line in diagnostics] == [
        f"{tmp_path / 'bad-expression.yaml'}:15:9",
        f"{tmp_path / 'bad-expression.yaml'}:24:70",
        f"{tmp_path / 'bad-yaml.yaml'}:5:7",
    ]
    assert "YAML syntax error" in diagnostics[2]
    assert counts(summary) == (2, 0, 3, 0)
    assert result.exit_code == 1


def test_files_and_folders_can_be_named_together(runner: FlaskCliRunner, tmp_path: Path) -> None:
    [good] = copy(tmp_path / "one", "valid/parking-permit.yaml")
    copy(tmp_path / "two", "broken/bad-yaml.yaml", "valid/bicycle-return.yaml")
    result = runner.invoke(args=["check", str(good), str(tmp_path / "two")])
    diagnostics, summary = split(result.output)
    assert counts(summary) == (3, 2, 1, 1)
    assert len(diagnostics) == 2
    assert result.exit_code == 1


def test_two_files_with_the_same_procedure_id_are_an_error(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    [first] = copy(tmp_path, "valid/parking-permit.yaml")
    second = tmp_path / "parking-permit-v2.yaml"
    second.write_text(
        first.read_text(encoding="utf-8").replace("version: 1", "version: 2"), encoding="utf-8"
    )
    result = runner.invoke(args=["check", str(tmp_path)])
    diagnostics, summary = split(result.output)
    # "parking-permit-v2.yaml" sorts before "parking-permit.yaml" ('-' < '.'),
    # so the second file checked is the one said to reuse the id.
    assert diagnostics == [
        f"{first}:2:12: error: procedure id 'parking-permit' is already used by {second}"
    ]
    assert counts(summary) == (2, 1, 1, 0)
    assert result.exit_code == 1


def test_a_reused_procedure_id_is_reported_at_the_procedure_line(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    [first] = copy(tmp_path, "valid/parking-permit.yaml")
    text = first.read_text(encoding="utf-8")
    # The same procedure with `version:` written before `procedure:`.
    reordered = text.replace(
        "procedure: parking-permit\nversion: 1\n", "version: 2\nprocedure: parking-permit\n"
    )
    assert reordered != text
    (tmp_path / "zz-copy.yaml").write_text(reordered, encoding="utf-8")
    result = runner.invoke(args=["check", str(tmp_path)])
    diagnostics, _ = split(result.output)
    # Line 3, column 12 is the id itself, the thing to change.
    assert diagnostics == [
        f"{tmp_path / 'zz-copy.yaml'}:3:12: error: procedure id 'parking-permit'"
        f" is already used by {first}"
    ]


def test_warnings_are_printed_and_do_not_fail(runner: FlaskCliRunner, tmp_path: Path) -> None:
    [path] = copy(tmp_path, "valid/bicycle-return.yaml", "valid/parking-permit.yaml")[:1]
    result = runner.invoke(args=["check", str(tmp_path)])
    diagnostics, summary = split(result.output)
    assert diagnostics == [f"{path}:4:8: warning: title has no 'en' translation"]
    assert counts(summary) == (2, 2, 0, 1)
    assert result.exit_code == 0


def test_no_warnings_prints_errors_only(runner: FlaskCliRunner, tmp_path: Path) -> None:
    copy(tmp_path, "valid/bicycle-return.yaml", "broken/bad-expression.yaml")
    result = runner.invoke(args=["check", "--no-warnings", str(tmp_path)])
    diagnostics, summary = split(result.output)
    assert all(": error: " in line for line in diagnostics)
    assert len(diagnostics) == 2
    assert counts(summary)[3] == 1  # still counted in the summary
    assert result.exit_code == 1


def test_an_offices_file_in_the_folder_is_not_taken_for_a_procedure(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    copy(tmp_path, "valid/parking-permit.yaml")
    shutil.copyfile(PROJECT_ROOT / "offices.yaml", tmp_path / "offices.yaml")
    result = runner.invoke(args=["check", str(tmp_path)])
    assert result.output == "1 procedure checked: 1 ok, 0 errors, 0 warnings\n"
    assert result.exit_code == 0


def test_a_file_that_does_not_exist_is_an_error(runner: FlaskCliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = runner.invoke(args=["check", str(missing)])
    diagnostics, summary = split(result.output)
    assert diagnostics == [f"{missing}:1:1: error: cannot read: No such file or directory"]
    assert counts(summary) == (1, 0, 1, 0)
    assert result.exit_code == 1


def test_a_file_that_is_not_utf8_is_an_error(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "sjis.yaml"
    path.write_bytes("procedure: 申請\n".encode("shift_jis"))
    result = runner.invoke(args=["check", str(path)])
    diagnostics, _ = split(result.output)
    [line] = diagnostics
    assert line.startswith(f"{path}:1:1: error: the file is not UTF-8 text")
    assert result.exit_code == 1


def madoguchi(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed `madoguchi` command, run for real."""
    command = Path(sys.executable).parent / "madoguchi"
    return subprocess.run(
        [str(command), *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def test_the_installed_command_checks_the_shipped_procedures_and_broken_files(
    tmp_path: Path,
) -> None:
    shipped = madoguchi("check", str(PROJECT_ROOT / "procedures"), cwd=tmp_path)
    assert shipped.returncode == 0, shipped.stdout + shipped.stderr
    _, summary = split(shipped.stdout)
    checked, ok, errors, _ = counts(summary)
    assert checked == len(list((PROJECT_ROOT / "procedures").glob("*.yaml")))
    assert (ok, errors) == (checked, 0)

    copy(tmp_path / "mixed", "valid/parking-permit.yaml", "broken/bad-expression.yaml")
    mixed = madoguchi("check", "mixed", cwd=tmp_path)
    assert mixed.returncode == 1, mixed.stdout + mixed.stderr
    diagnostics, summary = split(mixed.stdout)
    # Paths are printed as given on the command line.
    assert_bad_expression_errors(diagnostics, "mixed/bad-expression.yaml")
    assert counts(summary) == (2, 1, 2, 0)
