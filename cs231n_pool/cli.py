"""The `cs231n-pool` command: a thin dispatcher over the subcommand modules.

Each subcommand module exposes ``add_arguments(parser)`` and ``run(args) -> int``
and keeps its heavy imports (pytest, matplotlib, torch) inside ``run``. Only the
module of the subcommand being run is imported.
"""

import argparse
import importlib
import sys
from typing import NoReturn

from . import __version__
from .cli_args import EXIT_STATUSES, UsageError

COMMANDS = {
    "demo": ("cs231n_pool.demo", "gradient-check table, a worked pooling example and a grading run"),
    "gradcheck": ("cs231n_pool.gradcheck_table", "numerically check every layer's backward and print a table"),
    "bench": ("cs231n_pool.benchmark", "benchmark the pooling methods against PyTorch and the bandwidth floor"),
    "release": ("cs231n_pool.grading.release", "write the student bundle of an assignment"),
    "grade": ("cs231n_pool.grading.grade", "grade one submission (folder or .zip)"),
    "grade-all": ("cs231n_pool.grading.grade_all", "grade every submission in a folder"),
    "autograder": (
        "cs231n_pool.grading.autograder",
        "build the Gradescope or PrairieLearn autograder of an assignment",
    ),
}


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage mistakes are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    """All subcommands are listed; only the one named in argv is imported and given its options."""
    parser = CommandParser(
        prog="cs231n-pool",
        description=__doc__.splitlines()[0],
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=CommandParser)
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXIT_STATUSES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if argv and argv[0] == name:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(run=module.run, parser=sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the subcommand, so the line names it
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return args.run(args)
    except UsageError as exc:
        subcommand: CommandParser = args.parser
        subcommand.error(str(exc))


if __name__ == "__main__":
    sys.exit(main())
