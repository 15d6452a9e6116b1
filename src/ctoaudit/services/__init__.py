"""Access to the world outside the audited repository: package registries."""
