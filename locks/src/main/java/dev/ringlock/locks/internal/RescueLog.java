package dev.ringlock.locks.internal;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Hunting instrumentation: rescue lines, stalls, slow releases, to RINGLOCK_RESCUE_LOG. */
final class RescueLog {
  static final String PATH = System.getenv("RINGLOCK_RESCUE_LOG");
  static final boolean ON = PATH != null && !PATH.isEmpty();
  private static final long PID = ProcessHandle.current().pid();
  private static FileChannel channel;

  static {
    if (ON) {
      try {
        channel =
            FileChannel.open(
                Path.of(PATH),
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      Thread.ofPlatform()
          .daemon()
          .name("rescue-stall-watch")
          .start(
              () -> {
                for (; ; ) {
                  long t0 = System.nanoTime();
                  try {
                    Thread.sleep(2);
                  } catch (InterruptedException e) {
                    return;
                  }
                  long gap = System.nanoTime() - t0;
                  if (gap > 30_000_000L) {
                    line("STALL from=" + t0 / 1_000_000 + " ms=" + gap / 1_000_000);
                  }
                }
              });
    }
  }

  private RescueLog() {}

  static void line(String s) {
    if (!ON) {
      return;
    }
    String l =
        "t="
            + System.nanoTime() / 1_000_000
            + " pid="
            + PID
            + " thr="
            + Thread.currentThread().getName()
            + " "
            + s
            + "\n";
    synchronized (RescueLog.class) {
      try {
        channel.write(ByteBuffer.wrap(l.getBytes(StandardCharsets.UTF_8)));
      } catch (IOException e) {
        // hunting only
      }
    }
  }

  static long start() {
    return ON ? System.nanoTime() : 0;
  }

  static void slow(long start, String what) {
    if (ON) {
      long took = System.nanoTime() - start;
      if (took > 20_000_000L) {
        line("SLOWRELEASE " + what + " ms=" + took / 1_000_000 + " from=" + start / 1_000_000);
      }
    }
  }

  /** A per-object trace of recent events, dumped with a rescue or re-check line. */
  static final class Trace {
    private static final int N = 128;
    private final long[] at = new long[N];
    private final String[] what = new String[N];
    private final long[] a = new long[N];
    private final long[] b = new long[N];
    private final String[] thread = new String[N];
    private final java.util.concurrent.atomic.AtomicInteger next =
        new java.util.concurrent.atomic.AtomicInteger();

    void add(String code, long x, long y) {
      if (!ON) {
        return;
      }
      int i = next.getAndIncrement() & (N - 1);
      at[i] = System.nanoTime();
      what[i] = code;
      a[i] = x;
      b[i] = y;
      thread[i] = Thread.currentThread().getName();
    }

    String dump(long since) {
      StringBuilder s = new StringBuilder();
      int end = next.get();
      for (int k = end - N; k < end; k++) {
        if (k < 0) {
          continue;
        }
        int i = k & (N - 1);
        if (what[i] == null || at[i] - since < 0) {
          continue;
        }
        s.append("\n    ")
            .append(at[i] / 1_000_000)
            .append('.')
            .append((at[i] / 1000) % 1000)
            .append(' ')
            .append(thread[i])
            .append(' ')
            .append(what[i])
            .append(" 0x")
            .append(Long.toHexString(a[i]))
            .append(" 0x")
            .append(Long.toHexString(b[i]));
      }
      return s.toString();
    }
  }

  static int read(long address) {
    return MemorySegment.ofAddress(address).reinterpret(4).get(ValueLayout.JAVA_INT, 0);
  }
}
