"""CI steps on the Pulumi Automation API; pure logic, never imports ``components``."""
