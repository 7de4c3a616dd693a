"""OpenToolLab: one format for LLM function-calling data — fetch, convert, validate, mix, render, score."""

__version__ = "0.1.0"
