"""``python -m gmsa``."""

from gmsa.cli.main import main

main()
