"""The command line: parses arguments and wires library parts together; nothing more."""

__all__ = [
    "ad",
    "demo",
    "doctor",
    "export",
    "iam",
    "main",
    "manpages",
    "precommit",
    "ref",
    "schema",
    "spec",
    "spec_new",
    "spec_publish",
    "task",
    "task_agent",
    "task_run",
    "tickets",
]
