"""A bedside simulator: realistic arterial, pump and observation feeds for N beds."""
