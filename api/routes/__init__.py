"""One router per resource; each is built from the app's context (no module globals)."""
