"""``python -m pimsim.cli`` runs the ``pimsim`` command."""

from pimsim.cli.main import main

main()
