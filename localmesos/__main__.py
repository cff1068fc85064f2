"""`python -m localmesos ...` is the `localmesos` command."""

from localmesos.cli import main

main()
