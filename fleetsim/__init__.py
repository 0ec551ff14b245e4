"""Light simulated sites for the fleet's load tests and demo: many in one process.

:mod:`fleetsim.model` makes a site's records (about forty channels a minute from a few lines of
physics, reproducible by seed) and its alarms and interruptions; :mod:`fleetsim.fleet` gives
each site an in-memory outbox, the uplink's protocol (:mod:`fleetwire.session`) and its own
MQTT client, all driven from one selector loop, and cuts sites off and restores them. Imports
only :mod:`fleetwire` of ours.
"""
