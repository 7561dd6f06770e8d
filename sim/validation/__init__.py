"""Checks of the model against real negotiations it was not written for (the DEU III benchmark)."""
