"""Run a command as the terminal's foreground job, so that Ctrl-C reaches it and not make.

make dies of any SIGINT it receives, whatever its recipe does with it, so `make run`
ended every Ctrl-C with "Error 130". Here the command gets its own process group, which
becomes the terminal's foreground group: Ctrl-C goes to the command alone (run.sh stops the
hub and exits 0), then the terminal is handed back and its exit status is ours.
Without a terminal the command simply runs."""

import contextlib
import os
import signal
import sys


def main() -> int:
    command = sys.argv[1:]
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        os.execvp(command[0], command)
    original = os.tcgetpgrp(tty)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # we set the foreground from the background
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    child = os.fork()
    if child == 0:
        os.setpgid(0, 0)
        os.tcsetpgrp(tty, os.getpgrp())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execvp(command[0], command)
    with contextlib.suppress(OSError):
        os.setpgid(child, child)  # also here: whichever runs first
    _, status = os.waitpid(child, 0)
    with contextlib.suppress(OSError):
        os.tcsetpgrp(tty, original)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    sys.exit(main())
