"""OCPI 2.3.0 Bookings module, CPO side, on PlugPool bookings."""
