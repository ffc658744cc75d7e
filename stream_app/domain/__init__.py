"""Pure pydantic models of the wire contract: events, alerts, units and drug names."""
