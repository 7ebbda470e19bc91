"""PlugPool's OICP 2.3 message schemas, written from Hubject's specification (not copied)."""
