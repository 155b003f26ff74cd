"""GIS in: layers read, validated, reprojected to WGS84, linked to BIM and written out as GeoJSON."""
