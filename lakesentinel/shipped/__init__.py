"""Files the wheel ships and reads at run time: environments and routes (``config/``), rule packs and
detector specs (``rules/``). Found through ``importlib.resources``, never through the source tree."""
