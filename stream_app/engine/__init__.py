"""The pure engine: per-bed state in, event in, new state and transitions out.

Nothing under this package may import faust, aiokafka, prometheus_client or
asyncio (a test walks the imports); all timing is event time.
"""
