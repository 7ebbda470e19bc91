"""OCPI sessions and CDRs modules, CPO side: the Sender interfaces and their pushes."""
