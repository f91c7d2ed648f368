"""`python -m shiftnas` is the `shiftnas` command."""

from shiftnas.cli import main

main()
