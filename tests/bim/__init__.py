"""Tests of the IFC reader, its georeference, geometry, walking graph and re-import diff."""
