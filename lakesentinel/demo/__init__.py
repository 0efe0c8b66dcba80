"""The demo: the whole monitor on a simulated organisation, on this machine, in a few minutes."""
