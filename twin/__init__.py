"""The community twin: the spatial graph of a residential community and the server around it."""

__version__ = "0.1.0"
