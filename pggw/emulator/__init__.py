"""A local CDF-compatible REST API for trying pggw offline and for testing the uploader.

Run it with ``twistd -n pggw-emulator --endpoint tcp:8900:interface=127.0.0.1 --data-dir DIR`` or
``python -m pggw.emulator --endpoint ... --data-dir ...``; embed it with
:func:`pggw.emulator.service.make_emulator_service`.
"""
