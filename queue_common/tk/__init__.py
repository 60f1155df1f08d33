"""What every Tk app of the hall shares: the look (styles, palette), named fonts scaled
to the screen, and listening to the connection for as long as a view lives."""
