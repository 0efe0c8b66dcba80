"""The ``lakesentinel`` command line: thin commands over the library."""
