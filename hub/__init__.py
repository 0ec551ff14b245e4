"""The fleet hub: sites' messages from the broker into PostgreSQL, and the fleet's API.

:mod:`hub.schema` (tables, versions, time partitions), :mod:`hub.writer` (records: a checked
``COPY``, each record once, clock repair), :mod:`hub.events` (alarms, interruptions, command
results and the sites' states), :mod:`hub.ingest` (MQTT workers on a shared subscription,
acknowledging after the commit), :mod:`hub.fleet` (the readers: sites, series, monthly
reliability and energy, alarms, by scope), :mod:`hub.commands` (commands down, with an expiry,
and the keep-alive), :mod:`hub.keys` and :mod:`hub.api` (the fleet API and dashboard),
:mod:`hub.broker` (each site's broker credentials and ACL). It talks to sites only through the
broker, in the format of :mod:`fleetwire`.
"""
