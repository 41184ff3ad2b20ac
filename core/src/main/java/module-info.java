/**
 * ringlock core: an io_uring ring, driven through the Foreign Function and Memory API, that turns
 * Linux futex operations into {@link java.util.concurrent.CompletableFuture}s.
 *
 * <p>{@link dev.ringlock.core.FutexRing} is the public face. The packages below it are layers:
 * {@code ffi} (the only code that calls libc), {@code uring} (ring memory, SQE and CQE layouts, one
 * prep helper per opcode) and {@code memory} (word layouts in mapped memory).
 *
 * <p>This module makes ringlock's downcalls into libc, so it is the one that needs native access:
 * {@code --enable-native-access=dev.ringlock.core} on the module path ({@code
 * --enable-native-access=ALL-UNNAMED} on the class path). JDK 25 warns without it; later JDKs
 * refuse.
 */
// "module": dev.ringlock.locks requires this module, so it cannot be found while this one compiles.
@SuppressWarnings("module")
module dev.ringlock.core {
  // JFR events (a blocked completion thread): cheap while no recording is running
  requires jdk.jfr;

  exports dev.ringlock.core;
  // A thread's own futex wait, for the locks module's joined requests only: not a public API.
  exports dev.ringlock.core.thread to
      dev.ringlock.locks;
  // Regions are built on by the locks module only; their layout is not a public API.
  exports dev.ringlock.core.memory to
      dev.ringlock.locks;
}
