"""Augury's shared core: the definitions every part of the pipeline imports (one place each)."""
