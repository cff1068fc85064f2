"""Pure offer evaluation: a node's requirements and an offer in, Mesos operations or a reason out."""
