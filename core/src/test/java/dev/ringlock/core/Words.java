package dev.ringlock.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/** Futex words in private native memory, for tests. */
final class Words {
  static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  private final MemorySegment memory;

  Words(int count) {
    memory = Arena.ofAuto().allocate((long) count * Integer.BYTES, 64);
  }

  FutexWord word(int index) {
    return FutexWord.of(memory, (long) index * Integer.BYTES, FutexScope.PRIVATE);
  }

  void set(int index, int value) {
    INT.setVolatile(memory, (long) index * Integer.BYTES, value);
  }

  MemorySegment memory() {
    return memory;
  }
}
