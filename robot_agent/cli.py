"""``robot-agent``: the stack from a shell, with or without ``ros2 launch``.

robot-agent up [name:=value ...]      start the whole stack (the arguments of bringup.launch.py)
robot-agent up --show-args            list those arguments
robot-agent say "bring the red cup to the counter"
robot-agent demo [--out reports/demo]    the embedded world, two tasks, a report (``make demo``)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from robot_agent.bringup import ARGUMENTS, BringupError, parse_arguments, plan_bringup


def _show_arguments() -> None:
    for argument in ARGUMENTS:
        choices = f" (one of: {', '.join(argument.choices)})" if argument.choices else ""
        print(f"    {argument.name}:\n        {argument.description}{choices}\n        default: '{argument.default}'")


def _discovery_note() -> str | None:
    if os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE") or os.environ.get("ROS_LOCALHOST_ONLY"):
        return None
    return (
        "note: ROS discovery is not confined (ROS_AUTOMATIC_DISCOVERY_RANGE unset); `source scripts/env.sh` "
        "keeps it on this machine"
    )


def _up(options: argparse.Namespace) -> int:
    if options.show_args:
        _show_arguments()
        return 0
    try:
        plan = plan_bringup(parse_arguments(options.arguments))
    except (BringupError, FileNotFoundError) as error:
        print(f"robot-agent up: {error}", file=sys.stderr)
        return 2
    if options.dry_run:
        from robot_agent.runner import node_command

        for node in plan.nodes:
            print(" ".join(node_command(node, Path("<params file>"), plan.arguments["log_level"])))
            print(f"    parameters: {node.parameters}")
        return 0
    if note := _discovery_note():
        print(note, file=sys.stderr)
    from robot_agent.runner import run_bringup

    try:
        return run_bringup(plan)
    except BringupError as error:
        print(f"robot-agent up: {error}", file=sys.stderr)
        return 2


def _say(options: argparse.Namespace) -> int:
    from robot_agent.say import say

    return say(" ".join(options.command), options.timeout, options.server_wait)


def _demo(options: argparse.Namespace) -> int:
    from robot_agent.demo import main as demo_main

    return demo_main(["--out", str(options.out)])


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["bench"]:  # its own parser (robot_agent/bench.py)
        from robot_agent.bench import main as bench_main

        return bench_main(arguments[1:])
    parser = argparse.ArgumentParser(prog="robot-agent", description="Run robot_agent and talk to it.")
    commands = parser.add_subparsers(dest="subcommand", required=True)
    up = commands.add_parser("up", help="start the whole stack (as bringup.launch.py does)")
    up.add_argument("arguments", nargs="*", metavar="name:=value", help="launch arguments (--show-args lists them)")
    up.add_argument("--show-args", action="store_true", help="list the launch arguments and exit")
    up.add_argument("--dry-run", action="store_true", help="print the nodes and their parameters; start nothing")
    up.set_defaults(run=_up)
    say = commands.add_parser("say", help="send a command and follow it until it ends")
    say.add_argument("command", nargs="+", help="the command, e.g. 'bring the red cup to the counter'")
    say.add_argument("--timeout", type=float, default=600.0, help="give up (and cancel) after this many seconds")
    say.add_argument("--server-wait", type=float, default=15.0, help="wait this long for the agent to answer")
    say.set_defaults(run=_say)
    demo = commands.add_parser("demo", help="the embedded world, the whole stack, two tasks and a report")
    demo.add_argument("--out", type=Path, default=Path("reports/demo"), help="report folder (default reports/demo)")
    demo.set_defaults(run=_demo)
    commands.add_parser("bench", help="task scenarios through the whole stack (robot-agent bench --help)")
    options = parser.parse_args(arguments)
    return int(options.run(options))


if __name__ == "__main__":
    sys.exit(main())
