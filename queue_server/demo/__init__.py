"""`queue-server demo`: a whole hall on one machine (launcher and simulated citizens)."""
