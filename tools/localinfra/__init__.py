"""The local servers behind tools/infra.py: processes, S3, the Kafka broker and Prometheus."""
