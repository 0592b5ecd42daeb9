"""deploy/chat-manage, the documented way to run manage.py on a server: the service's settings
file, the current directory kept (relative paths work), a file on standard input."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "deploy" / "chat-manage"
COMMENTS = '<i><d p="1.5,1,25,16777215">first</d><d p="2,5,25,255">second</d></i>'


def chat_manage(
    tmp_path: Path, *args: str, user: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "chat.env"
    if not env_file.exists():
        # Plain NAME=value lines, as systemd reads them (deploy/chat.env.example).
        env_file.write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'db.sqlite3'}\nDEBUG=1\n")
    # The checkout and its virtualenv stand in for the server's /srv/chat and /srv/chat/.venv.
    srv = tmp_path / "srv"
    if not srv.exists():
        srv.mkdir()
        (srv / ".venv").symlink_to(sys.prefix)
        (srv / "manage.py").symlink_to(ROOT / "manage.py")
    env = {
        "PATH": os.environ["PATH"],
        "CHAT_DIR": str(tmp_path / "srv"),
        "CHAT_ENV": str(env_file),
        "CHAT_USER": user,
    }
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run(
        [str(SCRIPT), *args], cwd=work, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_relative_paths_and_standard_input_reach_the_command(tmp_path: Path) -> None:
    me = getpass.getuser()
    assert chat_manage(tmp_path, "migrate", "--noinput", user=me).returncode == 0
    created = chat_manage(
        tmp_path, "createroom", "film", "--title", "Film", "--video-url", "https://videos.example/f.mp4",
        "--duration-ms", "600000", user=me,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    (tmp_path / "work" / "comments.xml").write_text(COMMENTS)
    relative = chat_manage(tmp_path, "import_danmaku", "film", "comments.xml", user=me)
    assert relative.returncode == 0, relative.stderr
    assert "Imported 2 comments into 'film'." in relative.stdout
    piped = chat_manage(tmp_path, "import_danmaku", "film", "-", user=me, stdin=COMMENTS)
    assert piped.returncode == 0, piped.stderr
    assert "Imported 2 comments into 'film'." in piped.stdout
    missing = chat_manage(tmp_path, "import_danmaku", "film", "nowhere.xml", user=me)
    assert missing.returncode != 0
    assert "cannot read nowhere.xml" in missing.stderr


def test_it_refuses_clearly_without_the_settings_or_the_rights(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "CHAT_ENV": str(tmp_path / "absent.env"), "CHAT_DIR": str(tmp_path)}
    answer = subprocess.run([str(SCRIPT), "check"], env=env, capture_output=True, text=True, timeout=30)
    assert answer.returncode == 2
    assert f"cannot read {tmp_path / 'absent.env'}" in answer.stderr
    if os.geteuid() != 0:
        refused = chat_manage(tmp_path, "check", user="chat-service-that-is-not-me")
        assert refused.returncode == 2
        assert "run it as root" in refused.stderr
