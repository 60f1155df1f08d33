"""display_board."""
