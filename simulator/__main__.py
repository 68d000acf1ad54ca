"""`python -m simulator` runs the safer-streets command."""

from .cli import main

main()
