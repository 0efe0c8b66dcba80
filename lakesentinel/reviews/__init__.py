"""Reviews over gold: how incidents went (response times, noise, false positives, what they cost)."""
