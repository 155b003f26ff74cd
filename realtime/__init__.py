"""The live path: MQTT ingest, vendor profiles and payload decoding (rules and hub come later)."""
