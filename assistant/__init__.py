"""Cited answers from UK council reports, offline."""
