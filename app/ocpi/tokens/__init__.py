"""OCPI tokens module, CPO side: the Receiver interface and real-time authorisation."""
