"""CI steps on the Pulumi Automation API (SPEC §7); pure logic, never imports ``components``."""
