"""Marshmallow schemas of the OCPI objects we serve and receive, per version."""
