"""benchmarks/_results.py: a benchmark's latest output is written only when the run completes."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._results import print_checks, recorded  # noqa: E402


def test_a_completed_run_is_written_with_its_command_and_a_failed_one_keeps_the_last(tmp_path,
                                                                                      capsys):
    with recorded("demo", tmp_path):
        print("FD 12.3")
    text = (tmp_path / "demo.md").read_text()
    assert "FD 12.3" in text and "python " in text
    # sections: the course site's page of it has contents, as every page must
    assert text.count("\n## ") == 2 and "## Output" in text
    with pytest.raises(RuntimeError), recorded("demo", tmp_path):
        print("half a table")
        raise RuntimeError("interrupted")
    assert (tmp_path / "demo.md").read_text() == text
    assert "half a table" in capsys.readouterr().out


def test_print_checks_prints_one_verdict_per_goal_and_says_whether_all_passed(capsys):
    assert print_checks([("a", True), ("b", True)])
    assert not print_checks([("a", True), ("b", False)])
    assert capsys.readouterr().out.splitlines()[-2:] == ["PASS: a", "FAIL: b"]
