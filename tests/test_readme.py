"""README.md's example runs and prints what its comments say."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(capsys):
    text = README.read_text()
    section = text[text.index("## Ten lines"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.split() == ["True", "False"]


def test_readme_commands_exist():
    text = README.read_text()
    assert "spectral-sheaf demo" in text
    assert 'pip install -e ".[test]" && python -m pytest' in text
