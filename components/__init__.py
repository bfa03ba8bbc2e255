"""The Pulumi layer: ComponentResources, the Kubernetes provider and hook resources."""
