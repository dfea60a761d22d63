"""Build: firmware images for a target, the engine as a native library, and their footprint."""
