"""The public JSON API as a whole: its published contract for the mobile apps."""
