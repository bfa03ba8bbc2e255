"""Running the real Pulumi program offline: the SDK's mock monitor instead of an engine."""
