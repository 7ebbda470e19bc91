"""OCPI chargingprofiles module, CPO side: the Receiver interface, through the OCPP command bus."""
