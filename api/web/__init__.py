"""The web control plane: one static page, no build step."""
