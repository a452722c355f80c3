from twisted.application.service import ServiceMaker

pggwEmulator = ServiceMaker(
    "pggw CDF emulator",
    "pggw.emulator.tap",
    "A local CDF-compatible REST API for trying pggw offline and for tests.",
    "pggw-emulator",
)
