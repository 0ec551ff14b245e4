"""The fleet hub: sites' batches from the broker into PostgreSQL, acknowledged after the commit.

:mod:`hub.schema` (tables, time partitions), :mod:`hub.writer` (COPY, de-duplicating insert,
clock repair), :mod:`hub.ingest` (MQTT workers on a shared subscription), :mod:`hub.broker`
(each site's broker credentials and ACL). It talks to sites only through the broker, in the
format of :mod:`fleetwire`.
"""
