"""The thin streaming layer: decode -> engine -> emit -> metrics. No clinical logic here."""
