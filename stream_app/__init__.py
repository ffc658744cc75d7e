"""vasowatch: streaming vasopressor alerting for septic shock."""

__version__ = "0.1.0"
