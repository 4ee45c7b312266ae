"""Market state: per-scrip touchline/depth, L2 books, tape. Imports nothing from Textual."""
