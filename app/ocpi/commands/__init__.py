"""OCPI commands module, CPO side: the Receiver interface, executed through the OCPP command bus."""
