"""The site's SQLite store: the contract between the controller and the API (and the CLI).

One database file per site (``[api].database``), in WAL mode, its schema versioned by
sqlite-utils migrations (:mod:`store.schema`). The controller is the only writer of telemetry
(:class:`store.writer.Store`); the API reads it (:mod:`store.readers`) and writes only commands,
their audit and its keys (:mod:`store.commands`). The names both sides share (site figures,
energy categories, alarm kinds, periods, row types) are in :mod:`store.contract`; errors in
:mod:`store.errors` (root :class:`~store.errors.StoreError`). The store imports nothing from the
controller, the API or sizing. The controller writes through :class:`store.queue.WriteQueue` (a
bounded in-memory queue the cycle drains after its device writes: control never waits for
storage) and holds :func:`store.lock.writer_lock` (one controller per database).

Conventions
-----------
* Every timestamp (``*_ts``) is **UTC epoch seconds** as a REAL (``time.time()``).
* ``quality`` is one of ``good``, ``stale``, ``frozen``, ``invalid``, ``missing``
  (``contract.QUALITY_ORDER``, best first).
* JSON columns hold UTF-8 JSON text.
* Samples, latest values, rollups, energy and device health are committed with
  ``synchronous=NORMAL``; commands, audit, alarms, events and state with ``synchronous=FULL``
  (an acknowledged command survives a power cut).

Schema (migration ``m001_initial``: the first release)
-----------------------------------------------------
``points(id INTEGER PK, device TEXT, point TEXT)``
    One row per (device, point) ever seen; ``UNIQUE(device, point)``.
``samples(point_id INTEGER → points.id, ts REAL, value REAL NULL, quality TEXT)``
    Raw values as polled, inserted in batches: a row when a value moves by more than the
    controller's deadband or its quality changes, and at least every heartbeat. Primary key
    (point_id, ts), WITHOUT ROWID. Pruned after ``control.retention_days``. The view
    ``samples_named`` adds ``device`` and ``point``.
``latest(device TEXT, point TEXT, value REAL NULL, quality TEXT, ts REAL)``
    The last value of each point; primary key (device, point). ``ts`` is the time of the last
    good read (a stale value keeps its old ``ts``). The device ``site``
    (:data:`~store.contract.SITE_SOURCE`) holds every site figure
    (:data:`~store.contract.SITE_FIGURES`), computed once by the controller: the API shows those.
``rollups(period TEXT, start_ts REAL, source TEXT, energy_in_wh, energy_out_wh, soc_min_pct,
    soc_max_pct, aerator_h, do_min_mg_l, seconds)``
    ``period`` is ``1m``, ``15m`` or ``1d`` (the day in the site's time zone); ``source`` is a
    device name, or ``site`` for site-wide figures. ``seconds`` is the time covered; NULL means
    not measured. Primary key (period, start_ts, source). **Legacy**: ``energy_in_wh`` and
    ``energy_out_wh`` hold the energy written by releases before ``m002`` (in/out through a
    device) and are no longer written: energy is in ``energy``.
``alarms(id INTEGER PK, key TEXT, kind TEXT, source TEXT, severity TEXT, message TEXT,
    raised_ts REAL, cleared_ts REAL NULL, acked_ts REAL NULL, acked_by TEXT NULL)``
    ``kind`` and its ``severity`` come from :data:`~store.contract.ALARMS`. An alarm is active
    while ``cleared_ts`` is NULL; at most one active alarm per ``key`` (``kind:source``).
``events(id INTEGER PK, ts REAL, kind TEXT, source TEXT, message TEXT, data TEXT JSON)``
    A log. Kinds (:data:`~store.contract.EVENT_KINDS`; the writer refuses others):
    ``alarm_raised``, ``alarm_cleared`` (written by the store with the alarm),
    ``generator_start``, ``generator_stop``, ``load_switched``, ``strategy_failed``,
    ``controller_start``, ``controller_stop``, ``threshold_dropped`` (a saved threshold that no
    longer validates at start-up), ``records_dropped`` (what the controller's write queue,
    :mod:`store.queue`, lost while the database could not be written; ``data`` counts by kind),
    ``planned_cut_started``, ``planned_cut_ended`` (``data``: the cut, and for its end
    ``end_ts`` and ``why``: ended by whom, or by the controller after the longest cut).
``interruptions(id INTEGER PK, load TEXT, cause TEXT, start_ts REAL, end_ts REAL NULL)``
    A supply interruption of one load (shed, inverter trip; an operator's off is *not* one);
    at most one open (``end_ts`` NULL) per load. ``m003`` adds ``customers`` and ``planned``.
``commands(id INTEGER PK, created_ts REAL, kind TEXT, target TEXT NULL, value TEXT JSON,
    expires_ts REAL NULL, requested_by TEXT, status TEXT, result TEXT JSON NULL,
    acked_ts REAL NULL)``
    Inserted by the API with ``status='pending'``; the controller executes pending rows at its
    next cycle and sets ``status`` to ``done``, ``rejected`` or ``failed``, with ``result`` and
    ``acked_ts``. A row past ``expires_ts`` is rejected with ``{"error": "expired"}``.
``audit(id INTEGER PK, ts REAL, actor TEXT, action TEXT, detail TEXT JSON)``
    The controller's audit: what it did with each command. Append-only (triggers refuse UPDATE
    and DELETE).
``state(key TEXT PK, value TEXT JSON, updated_ts REAL)``
    What must survive a restart: ``overrides``, ``generator``, ``thresholds``,
    ``planned_cut`` (:data:`~store.contract.PLANNED_CUT_STATE`: ``{"start_ts", "reason",
    "by"}`` of the planned cut in progress, or null). And the
    controller's ``heartbeat`` (``{"ts", "cycle_s", "pid"}``), written every cycle: the API
    says the controller is not running when it is older than two cycle periods (+ 1 s).
``api_keys(id TEXT PK, name TEXT, role TEXT, hash TEXT, created_ts REAL, created_by TEXT,
    revoked_ts REAL NULL, revoked_by TEXT NULL, last_used_ts REAL NULL)``
    The API's keys: ``id`` is 12 public hex digits, ``role`` is ``viewer``, ``operator`` or
    ``admin``, ``hash`` the SHA-256 (hex) of the whole key, which is never stored;
    ``created_by``/``revoked_by`` say who (``cli`` or a key). A key is active while
    ``revoked_ts`` is NULL; ``last_used_ts`` is advisory (written at most once a minute).
``api_audit(command_id INTEGER PK → commands.id, ts REAL, actor TEXT, before TEXT JSON)``
    The API's side of the audit: for every command, who sent it and the state the requester
    saw before asking (inserted with the command, in the same transaction).

Schema (migration ``m002_devices_energy``)
------------------------------------------
``devices(device TEXT PK, online INTEGER 0/1, last_poll_ts REAL NULL, last_ok_ts REAL NULL,
    error TEXT NULL, updated_ts REAL)``
    Each device's health, upserted every cycle by the controller: ``online`` while it answered
    its last poll (whether or not its values changed); ``last_poll_ts`` the last request sent,
    ``last_ok_ts`` the last answer, ``error`` the last failure. ``updated_ts`` is the cycle
    that wrote the row: a row that stops moving means the controller stopped.
``energy(period TEXT, start_ts REAL, source TEXT, category TEXT, method TEXT, wh REAL,
    seconds REAL)``
    Energy rollups by category (:data:`~store.contract.ENERGY_CATEGORIES`: ``pv``, ``load``,
    ``battery_charge``, ``battery_discharge``, ``generator``, ``wind``) and method
    (``counter``: from a device's own counter; ``integrated``: polled power × time) [Wh].
    ``source`` ``site`` holds the site's energy as the controller computed it once; device
    sources are detail. Periods as in ``rollups``; ``seconds`` is the time the cycles
    covered. Primary key (period, start_ts, source, category, method).

Schema (migration ``m003_reliability``)
---------------------------------------
``interruptions`` gains ``customers INTEGER ≥ 0`` (default 1) and ``planned INTEGER 0/1``
(default 0)
    ``customers`` are the load's customers when the interruption started (kept with the row,
    so that history does not move when the site file changes; 0 for a load of a customer
    counted elsewhere: the row stays, and weighs nothing). ``planned`` is 1 for an operator's
    planned cut (``cause`` ``planned``). Rows of older releases read as one customer,
    unplanned, as they were counted. Causes: ``battery_protection``, ``load_shedding``,
    ``inverter_trip``, ``planned`` (older rows may say ``shed``).
``curtailments(id INTEGER PK, load TEXT, cause TEXT, start_ts REAL, end_ts REAL NULL)``
    A flexible load (``flexible = true`` in the site file: air conditioner, ice maker,
    deferrable pump) held off by shedding, protection or an inverter trip: curtailed, not
    interrupted; it never counts in SAIDI/SAIFI/MAIFI. At most one open per load.

Schema (migration ``m006_uplink_outbox``)
----------------------------------------
``outbox(id INTEGER PK AUTOINCREMENT, kind TEXT, created_ts REAL, payload BLOB, records INTEGER)``
    What the site's uplink has for the hub and the hub has not yet acknowledged
    (:mod:`store.outbox`): ``kind`` ``batch`` (a :mod:`fleetwire.batch` payload of ``records``
    records) or ``events`` (a ``fleetwire.messages.Events`` of ``records`` items). Made in the
    transaction that moves the uplink's cursors, deleted when the hub acknowledges it after
    its commit; ids are never reused. Over ``[uplink] outbox_max_mb`` the oldest batch rows are
    dropped with an event ``records_dropped`` (source ``uplink``); events rows never are.
``uplink_state(key TEXT PK, value TEXT JSON)``
    The uplink's own state: ``epoch`` (random, once per database: the key of its alarms and
    interruptions on the wire), ``boot`` (its starts), ``seq`` (records of this boot),
    ``offset_ms``, ``trusted_from_ms``, ``cursor_ts`` (samples packed before it), ``alarm_id``,
    ``interruption_id``, ``open_alarms``, ``open_interruptions`` (what was sent).
``hub_commands(hub_id TEXT PK, command_id INTEGER NULL → commands.id, received_ts REAL,
    status TEXT NULL, detail TEXT, result_sent INTEGER 0/1)``
    Each hub command received, once: the site command it became (``requested_by``
    ``hub:<by>``), or ``status`` ``expired``/``rejected`` on arrival; ``result_sent`` once its
    result is in the outbox.

Reliability (:func:`store.readers.read_reliability`)
    SAIDI, SAIFI and MAIFI per local month and year to date, planned and unplanned apart, each
    :func:`ieee1366.interruption_indices` over the period's interruptions (weighted by their
    stored ``customers``) and the ``customers_served`` the caller passes (the site's now). An
    interruption or curtailment belongs whole to the local month it starts in (IEEE 1366; it
    is never split); an open one counts up to now.

Command kinds (``kind``: ``value``; ``target`` is the load name for ``override_load``)
    * ``override_load``: ``{"load": str, "on": bool, "expires_s": float}``
    * ``set_threshold``: ``{"key": str, "value": number}``, a settable ``[control]`` key
    * ``generator``: ``{"action": "start" | "stop" | "auto"}``
    * ``ack_alarm``: ``{"alarm_id": int}``
    * ``planned_cut``: ``{"action": "start" | "end", "reason": str}`` (``reason`` required to
      start, at most 200 characters): the operator declares that the supply is cut for
      maintenance. The controller opens a planned interruption (``cause`` ``planned``) for
      every load that is not flexible, closes them at ``end``, and ends a cut nobody ended
      :data:`~store.contract.PLANNED_CUT_MAX_S` (72 h) after its start, at that time. Starting
      while a cut is in progress, or ending when none is, is ``rejected``.
"""
