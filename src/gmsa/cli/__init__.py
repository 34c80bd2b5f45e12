"""The command line: parses arguments and wires library parts together; nothing more."""
