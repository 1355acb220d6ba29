"""The `assistant` command line: the group in main.py, one module per family of commands."""
