"""`statuspage admin …`: operator accounts and API keys, managed from the command line."""

from __future__ import annotations

import argparse


def add_admin_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = commands.add_parser("admin", help="manage operator accounts and API keys")
    admin.add_subparsers(dest="admin_command", required=True, metavar="ADMIN_COMMAND")


def run_admin(args: argparse.Namespace) -> int:
    raise NotImplementedError
