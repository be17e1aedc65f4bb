"""Runs a command on a pseudo-terminal, answers one question, and relays what it printed.

argv: ANSWER QUESTION_MARKER COMMAND [ARGS...]. Exits with the command's exit code.
"""
import os
import pty
import select
import sys

answer, marker, argv = sys.argv[1].encode(), sys.argv[2].encode(), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(argv[0], argv, os.environ)

seen = b""
answered = False
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not answered and marker in seen:
        os.write(fd, answer + b"\n")
        answered = True

_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
