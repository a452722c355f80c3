from emulator_harness import api, child_emulator, emu

__all__ = ["api", "child_emulator", "emu"]
