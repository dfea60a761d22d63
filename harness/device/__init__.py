"""The device: loaders put an image on a target, the link talks to it, the session verifies it."""
