"""Tests of gis/: reading, validation, CRS, the local frame, linking, alignment and GeoJSON out."""
