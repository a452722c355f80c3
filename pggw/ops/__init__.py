"""Operating pggw: metrics, health, status, the dashboard, drain and graceful shutdown.

* :mod:`pggw.ops.metrics` — the Prometheus registry and the :class:`Metrics` hooks the
  engine and session call (``rows_accepted``, ``statement``, ``auth_failure`` …).
* :mod:`pggw.ops.service` — :class:`Operations`: status JSON, readiness, the backlog
  history behind the dashboard, drain.
* :mod:`pggw.ops.access` — who sees per-user detail in ``/status``: the admin token, CDF
  tokens (inspected with the credentials API's cached :class:`TokenInspector`).
* :mod:`pggw.ops.shutdown` — the ordered, bounded stop of the whole gateway (SIGTERM).
* :mod:`pggw.ops.views` — data functions behind the SQL views ``pggw.backlog``,
  ``pggw.rejected``, ``pggw.uploads`` and ``pggw.retry_rejected``/``discard_rejected``.
* :mod:`pggw.ops.logs` — ``--log-format json``.
* :mod:`pggw.ops.web` — the HTTP resources (mounted by :mod:`pggw.http`).
"""
