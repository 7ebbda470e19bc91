"""OCPI locations module, CPO side: the Sender interface and pushes."""
