package dev.ringlock.bench.cli;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The data the demo's mutex protects, in a file of its own beside the region (a region holds only
 * ringlock's objects): a counter, and one tally per worker of the increments it completed.
 *
 * <pre>
 * offset        size  field
 *      0           8  counter   incremented once per critical section
 *     64   8 × slots  tallies   tally[i]: critical sections worker i completed
 * </pre>
 *
 * <p>Invariant, whenever the mutex is free and consistent: {@code counter == sum of tallies}. A
 * critical section writes the counter and then the worker's tally, so a worker killed between the
 * two leaves the counter one ahead; the next holder is told {@code ownerDied()} and repairs
 * (counter := sum of tallies) before {@code markConsistent()}. Written with plain stores under the
 * mutex (whose word's atomics order them); read for progress with acquire loads, racily.
 */
final class DemoState {
  static final int MAX_WORKERS = 16;
  private static final long COUNTER_OFFSET = 0;
  private static final long TALLIES_OFFSET = 64; // its own cache line, away from the counter
  static final long BYTES = TALLIES_OFFSET + (long) MAX_WORKERS * Long.BYTES;

  private static final VarHandle LONG = JAVA_LONG.varHandle();

  private final MemorySegment memory;

  private DemoState(MemorySegment memory) {
    this.memory = memory;
  }

  /** Maps {@code file}, creating it zeroed if it does not exist; unmapped when the arena closes. */
  static DemoState map(Path file, Arena arena) throws IOException {
    try (FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (channel.size() < BYTES) {
        channel.write(java.nio.ByteBuffer.allocate(1), BYTES - 1);
      }
      return new DemoState(channel.map(FileChannel.MapMode.READ_WRITE, 0, BYTES, arena));
    }
  }

  // Under the mutex: plain accesses.

  long counter() {
    return memory.get(JAVA_LONG, COUNTER_OFFSET);
  }

  void counter(long value) {
    memory.set(JAVA_LONG, COUNTER_OFFSET, value);
  }

  long tally(int slot) {
    return memory.get(JAVA_LONG, tallyOffset(slot));
  }

  void tally(int slot, long value) {
    memory.set(JAVA_LONG, tallyOffset(slot), value);
  }

  long sumOfTallies() {
    long sum = 0;
    for (int slot = 0; slot < MAX_WORKERS; slot++) {
      sum += tally(slot);
    }
    return sum;
  }

  /** Tally of {@code slot} read without the mutex (progress display): a recent value. */
  long tallyRacy(int slot) {
    return (long) LONG.getAcquire(memory, tallyOffset(slot));
  }

  private static long tallyOffset(int slot) {
    if (slot < 0 || slot >= MAX_WORKERS) {
      throw new IllegalArgumentException(
          "worker slot " + slot + " outside 0.." + (MAX_WORKERS - 1));
    }
    return TALLIES_OFFSET + (long) slot * Long.BYTES;
  }
}
