"""How a hub client reaches the Kafka cluster and proves who it is (TLS trust, SASL/SCRAM identity)."""
