"""The hall's rules as plain values: who is called next, the estimate, ticket numbers,
a visit's parts and the waiting index. No clock (``now`` is an argument), no database,
no threads, no import from the rest of the server (docs/design.md, "Layers")."""
