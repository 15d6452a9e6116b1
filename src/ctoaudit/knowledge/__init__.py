"""Data files that encode what ctoaudit knows: the tool catalogue and the Python end-of-life table."""
