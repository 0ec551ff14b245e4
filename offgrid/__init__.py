"""The ``offgrid`` command line: the front door that wires the packages together."""
