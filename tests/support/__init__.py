"""Test helpers shared by unit, integration and Tk tests."""
