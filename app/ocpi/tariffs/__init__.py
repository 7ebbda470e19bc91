"""OCPI tariffs module, CPO side: the Sender interface."""
