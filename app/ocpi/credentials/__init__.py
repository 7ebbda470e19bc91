"""OCPI credentials module: registration in both directions, rotation, unregistration."""
