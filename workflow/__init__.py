"""The domain core: state machines, budget arithmetic, WBS generation,
rollups and sync rules. Pure: no Flask, no database session, no Redis."""
