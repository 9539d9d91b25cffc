"""`supsim completion bash` completes commands, options and first arguments in a real bash."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from supsim.cli.completion import completion_script
from supsim.cli.main import build_parser, main


def _complete(script: str, *words: str) -> list[str]:
    """What bash offers for the last of ``words`` (the word being typed)."""
    argv = " ".join(f"'{w}'" for w in ("supsim", *words))
    ask = f'COMP_WORDS=({argv}); COMP_CWORD={len(words)}; _supsim; printf "%s\\n" "${{COMPREPLY[@]}}"'
    program = f"{script}\n{ask}"
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True, timeout=30)
    return [w for w in done.stdout.splitlines() if w]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_options_and_first_arguments() -> None:
    script = completion_script(build_parser(), "bash")
    assert _complete(script, "sch") == ["schema"]
    assert _complete(script, "discipline") == ["discipline-sweep"]
    assert _complete(script, "schema", "r") == ["rulebook"]
    assert _complete(script, "run", "--se") == ["--seed"]
    assert "--overwrite" in _complete(script, "loadtest", "--o")


def test_every_command_is_in_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "zsh"]) == 0
    script = capsys.readouterr().out
    assert script.splitlines()[1] == "autoload -U +X bashcompinit && bashcompinit"
    for name in build_parser()._subparsers._group_actions[0].choices:  # type: ignore[union-attr]
        assert f"\n    {name}) opts=" in script
