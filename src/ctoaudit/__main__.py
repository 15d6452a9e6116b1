"""`python -m ctoaudit`."""

from ctoaudit.entry import main

main()
