"""The nurse-station board: live tiles from icu.alerts; acknowledgements to icu.alert-acks."""
