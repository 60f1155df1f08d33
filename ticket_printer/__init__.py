"""ticket_printer."""
