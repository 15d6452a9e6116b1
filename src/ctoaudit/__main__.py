"""`python -m ctoaudit`."""

from ctoaudit.cli import main

main()
